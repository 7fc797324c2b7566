package dev.similarity.index;

import static dev.similarity.index.TestVectors.unit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ShardIndexReadYourWritesTest {

  private static final int DIM = 4;

  private ShardIndex index;

  @BeforeEach
  void openIndexThatNeverRefreshesOnItsOwn() {
    index =
        ShardIndex.builder()
            .dimension(DIM)
            .refreshPendingThreshold(1_000_000)
            .refreshMaxAge(Duration.ofDays(1))
            .build();
  }

  @AfterEach
  void close() {
    index.close();
  }

  private List<String> idsNear(float[] query, int k) {
    return index.search(query, k, SearchOptions.NONE).stream().map(ScoredProduct::productId).toList();
  }

  @Test
  void upsertedProductIsFoundBeforeAnyRefresh() {
    index.upsert("a", unit(1, 0, 0, 0), null);

    assertEquals(0, index.segmentCount(), "nothing refreshed yet");
    assertEquals(List.of("a"), idsNear(unit(1, 0.1f, 0, 0), 5));
    assertTrue(index.contains("a"));
    assertEquals(1, index.size());
  }

  @Test
  void refreshedAndPendingProductsAreRankedTogether() {
    index.upsert("far", unit(0, 1, 0, 0), null);
    index.upsert("near", unit(1, 0.2f, 0, 0), null);
    index.refresh();
    index.upsert("nearest", unit(1, 0.05f, 0, 0), null);
    index.upsert("middle", unit(1, 1, 0, 0), null);

    assertEquals(List.of("nearest", "near", "middle", "far"), idsNear(unit(1, 0, 0, 0), 4));
  }

  @Test
  void deletedProductIsNeverReturnedBeforeOrAfterRefresh() {
    index.upsert("kept", unit(1, 1, 0, 0), null);
    index.upsert("refreshed-then-deleted", unit(1, 0, 0, 0), null);
    index.refresh();
    index.upsert("pending-then-deleted", unit(1, 0.01f, 0, 0), null);

    assertTrue(index.delete("refreshed-then-deleted"));
    assertTrue(index.delete("pending-then-deleted"));

    assertEquals(List.of("kept"), idsNear(unit(1, 0, 0, 0), 10), "before refresh");
    assertFalse(index.contains("refreshed-then-deleted"));
    assertEquals(1, index.size());
    index.refresh();
    assertEquals(List.of("kept"), idsNear(unit(1, 0, 0, 0), 10), "after refresh");
    assertEquals(1, index.size());
  }

  @Test
  void deleteOfUnknownProductReturnsFalseAndChangesNothing() {
    index.upsert("a", unit(1, 0, 0, 0), null);
    index.refresh();

    assertFalse(index.delete("never-indexed"));
    assertTrue(index.delete("a"));
    assertFalse(index.delete("a"), "second delete of the same product");
    assertEquals(0, index.size());
  }

  @Test
  void overwriteMovesProductToItsNewVector() {
    index.upsert("moving", unit(1, 0, 0, 0), null);
    index.upsert("anchor-x", unit(1, 0.3f, 0, 0), null);
    index.upsert("anchor-y", unit(0, 1, 0.3f, 0), null);
    index.refresh();

    index.upsert("moving", unit(0, 1, 0, 0), null);

    List<ScoredProduct> nearX = index.search(unit(1, 0, 0, 0), 3, SearchOptions.NONE);
    assertEquals("anchor-x", nearX.get(0).productId(), "old position no longer matches first");
    assertEquals(1, nearX.stream().filter(p -> p.productId().equals("moving")).count());
    assertEquals(0f, score(nearX, "moving"), 1e-6f, "scored with the new vector only");
    assertEquals(List.of("moving", "anchor-y"), idsNear(unit(0, 1, 0, 0), 2));
    assertEquals(3, index.size());
    index.refresh();
    assertEquals(List.of("moving", "anchor-y"), idsNear(unit(0, 1, 0, 0), 2));
    assertEquals(3, index.size());
  }

  @Test
  void overwriteTwiceBeforeRefreshKeepsOnlyTheLastVector() {
    index.upsert("p", unit(1, 0, 0, 0), null);
    index.upsert("p", unit(0, 1, 0, 0), null);
    index.upsert("p", unit(0, 0, 1, 0), null);

    List<ScoredProduct> all = index.search(unit(0, 0, 1, 0), 10, SearchOptions.NONE);
    assertEquals(List.of(new ScoredProduct("p", 1f)), all);
    index.refresh();
    assertEquals(List.of(new ScoredProduct("p", 1f)), index.search(unit(0, 0, 1, 0), 10, SearchOptions.NONE));
  }

  @Test
  void scoresAreCosineSimilaritiesBestFirst() {
    index.upsert("same", unit(1, 0, 0, 0), null);
    index.upsert("orthogonal", unit(0, 1, 0, 0), null);
    index.upsert("opposite", unit(-1, 0, 0, 0), null);
    index.refresh();
    index.upsert("diagonal", unit(1, 1, 0, 0), null);

    List<ScoredProduct> results = index.search(unit(1, 0, 0, 0), 4, SearchOptions.NONE);

    assertEquals(List.of("same", "diagonal", "orthogonal", "opposite"),
        results.stream().map(ScoredProduct::productId).toList());
    assertEquals(1f, score(results, "same"), 1e-6f);
    assertEquals((float) Math.sqrt(0.5), score(results, "diagonal"), 1e-6f);
    assertEquals(0f, score(results, "orthogonal"), 1e-6f);
    assertEquals(-1f, score(results, "opposite"), 1e-6f);
  }

  @Test
  void pendingBufferIsRefreshedOnceOlderThanMaxAge() throws InterruptedException {
    try (ShardIndex aging =
        ShardIndex.builder().dimension(DIM).refreshMaxAge(Duration.ofMillis(50)).build()) {
      aging.upsert("a", unit(1, 0, 0, 0), null);
      assertEquals(1, aging.stats().pendingVectors());

      Thread.sleep(80);
      aging.maybeRefresh();

      assertEquals(0, aging.stats().pendingVectors());
      assertEquals(1, aging.segmentCount());
      assertEquals(List.of("a"),
          aging.search(unit(1, 0, 0, 0), 1, SearchOptions.NONE).stream().map(ScoredProduct::productId).toList());
    }
  }

  @Test
  void pendingBufferIsRefreshedWhenItReachesTheThreshold() {
    try (ShardIndex small = ShardIndex.builder().dimension(DIM).refreshPendingThreshold(3).build()) {
      small.upsert("a", unit(1, 0, 0, 0), null);
      small.upsert("b", unit(0, 1, 0, 0), null);
      assertEquals(2, small.stats().pendingVectors());

      small.upsert("c", unit(0, 0, 1, 0), null);

      assertEquals(0, small.stats().pendingVectors());
      assertEquals(3, small.size());
    }
  }

  private static float score(List<ScoredProduct> results, String id) {
    return results.stream().filter(p -> p.productId().equals(id)).findFirst().orElseThrow().score();
  }
}
