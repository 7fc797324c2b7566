package dev.similarity.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.index.tools.ClusteredUnitVectors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The merge policy keeps the segment count (the main cost of a kNN search) small. */
class ShardIndexSegmentsTest {

  private static final int DIM = 16;
  private static final int REFRESHES = 60;
  private static final int WRITES_PER_REFRESH = 100;

  /** Streams REFRESHES small batches, each refreshed into its own segment, then lets merges finish. */
  private static int segmentsAfterManySmallRefreshes(ShardIndex.Builder builder) {
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 10, 1.0, 3);
    try (ShardIndex index =
        builder
            .dimension(DIM)
            .refreshPendingThreshold(WRITES_PER_REFRESH)
            .refreshMaxAge(Duration.ofDays(1))
            .build()) {
      int id = 0;
      for (int r = 0; r < REFRESHES; r++) {
        for (int i = 0; i < WRITES_PER_REFRESH; i++) {
          index.upsert("p" + (id++ % 5_000), vectors.next(), null); // later rounds overwrite
        }
      }
      assertTrue(index.stats().refreshes() >= REFRESHES, "at least one refresh per batch");
      index.awaitMerges();
      assertEquals(5_000, index.size());
      System.out.println("after " + REFRESHES + " small refreshes and merges: " + index.stats());
      return index.segmentCount();
    }
  }

  @Test
  void segmentCountStaysSmallAfterManySmallRefreshes() {
    int segments = segmentsAfterManySmallRefreshes(ShardIndex.builder());

    // Where merges end depends on which segments were free to merge when each refresh flushed: 2 in
    // most runs, 1 or 3 in some (40 runs beside two busy cores: 2, 37 and 1), Lucene's defaults 7 or more.
    assertTrue(segments <= 3, segments + " segments after " + REFRESHES + " refreshes");
  }

  @Test
  void luceneDefaultMergeSettingsWouldKeepMoreSegments() {
    int segments =
        segmentsAfterManySmallRefreshes(
            ShardIndex.builder().mergeSegmentsPerTier(8).mergeFloorSegmentMb(16));

    assertTrue(segments > 2, "control: " + segments + " segments with Lucene's defaults");
  }

  /**
   * A shard far above TieredMergePolicy's floor (here a tiny floor stands in for a shard of
   * millions of vectors) streamed in many refreshes with mergeMaxSegments(3): after every refresh,
   * once merges finish, at most 3 segments (graphs) remain to be searched, and every product is
   * found. (The code before FewSegmentsMergePolicy kept up to 9 in the same stream.)
   */
  @Test
  void fewSegmentsMergesKeepAStreamedShardAtThreeSegmentsAfterEveryRefresh() {
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 10, 1.0, 5);
    int refreshes = 40;
    int writesPerRefresh = 250;
    int products = 8_000;
    List<Integer> counts = new ArrayList<>();
    try (ShardIndex index =
        ShardIndex.builder()
            .dimension(DIM)
            .mergeMaxSegments(3)
            .mergeFloorSegmentMb(0.001)
            .refreshPendingThreshold(writesPerRefresh)
            .refreshMaxAge(Duration.ofDays(1))
            .build()) {
      float[][] latest = new float[products][];
      int id = 0;
      for (int r = 0; r < refreshes; r++) {
        for (int i = 0; i < writesPerRefresh; i++) {
          int product = id++ % products; // the last 2,000 writes overwrite products 0..1,999
          latest[product] = vectors.next();
          index.upsert("p" + product, latest[product], null);
        }
        index.awaitMerges();
        counts.add(index.segmentCount());
      }
      System.out.println("segments after each refresh and its merges: " + counts);

      assertEquals(products, index.size());
      assertTrue(counts.stream().allMatch(c -> c <= 3), "segments after each refresh: " + counts);
      assertTrue(
          counts.subList(refreshes / 2, refreshes).contains(1),
          "the small segments were merged into the big one again: " + counts);
      for (int product = 0; product < products; product += 97) {
        assertEquals(
            "p" + product,
            index.search(latest[product], 1, SearchOptions.NONE.candidates(50)).get(0).productId());
      }
    }
  }

  @Test
  void tieredMergesAloneKeepMoreSegmentsInALargeShard() {
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 10, 1.0, 5);
    try (ShardIndex index =
        ShardIndex.builder()
            .dimension(DIM)
            .mergeFloorSegmentMb(0.001) // the default: TieredMergePolicy alone
            .refreshPendingThreshold(250)
            .refreshMaxAge(Duration.ofDays(1))
            .build()) {
      int most = 0;
      for (int i = 0; i < 10_000; i++) {
        index.upsert("p" + (i % 8_000), vectors.next(), null);
        if (i % 250 == 249) {
          index.awaitMerges();
          most = Math.max(most, index.segmentCount());
        }
      }
      assertTrue(most > 3, "control: at most " + most + " segments with TieredMergePolicy alone");
    }
  }

  @Test
  void bulkLoadRefreshesOnceIntoOneSegment() {
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 10, 1.0, 4);
    List<ProductVector> products = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      products.add(new ProductVector("p" + i, vectors.next(), i % 2 == 0 ? "even" : null));
    }
    try (ShardIndex index = ShardIndex.builder().dimension(DIM).build()) {
      index.upsert("p0", vectors.next(), null);
      index.upsert("only-streamed", vectors.next(), null);

      assertEquals(3_000, index.bulkLoad(products));

      assertEquals(1, index.stats().refreshes());
      assertEquals(0, index.stats().pendingVectors());
      assertEquals(3_001, index.size(), "p0 replaced, only-streamed kept");
      assertTrue(index.segmentCount() <= 2, index.segmentCount() + " segments");
      assertEquals(
          "p2",
          index.search(products.get(2).vector(), 1, SearchOptions.NONE.category("even")).get(0).productId());
    }
  }
}
