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

    assertTrue(segments <= 2, segments + " segments after " + REFRESHES + " refreshes");
  }

  @Test
  void luceneDefaultMergeSettingsWouldKeepMoreSegments() {
    int segments =
        segmentsAfterManySmallRefreshes(
            ShardIndex.builder().mergeSegmentsPerTier(8).mergeFloorSegmentMb(16));

    assertTrue(segments > 2, "control: " + segments + " segments with Lucene's defaults");
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
