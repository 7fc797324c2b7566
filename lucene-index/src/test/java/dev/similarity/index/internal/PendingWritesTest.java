package dev.similarity.index.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.index.ScoredProduct;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PendingWritesTest {

  private static final float[] X = {1, 0};
  private static final float[] Y = {0, 1};

  private static List<String> ids(List<ScoredProduct> products) {
    return products.stream().map(ScoredProduct::productId).toList();
  }

  @Test
  void deletingAMiddleSlotKeepsEveryOtherProductSearchable() {
    PendingWrites pending = new PendingWrites();
    for (int i = 0; i < 200; i++) {
      pending.upsert("p" + i, i % 2 == 0 ? X : Y, null, 0);
    }

    assertTrue(pending.delete("p10", 1));
    assertFalse(pending.delete("p10", 2));
    pending.upsert("p199", X, null, 3); // the product moved into p10's slot, overwritten

    assertEquals(199, pending.size());
    assertFalse(pending.contains("p10"));
    List<ScoredProduct> nearX = pending.topMatches(X, 1_000, null, Set.of());
    assertEquals(100, nearX.stream().filter(p -> p.score() == 1f).count(), "99 even ids plus p199");
    assertTrue(ids(nearX).contains("p199"));
  }

  @Test
  void topMatchesAreBestFirstAndHonourCategoryAndExclusions() {
    PendingWrites pending = new PendingWrites();
    pending.upsert("b", new float[] {0.6f, 0.8f}, "shoes", 0);
    pending.upsert("a", X, "shoes", 0);
    pending.upsert("c", Y, "bags", 0);
    pending.upsert("d", new float[] {0.8f, 0.6f}, null, 0);

    assertEquals(List.of("a", "d"), ids(pending.topMatches(X, 2, null, Set.of())));
    assertEquals(List.of("a", "b"), ids(pending.topMatches(X, 5, "shoes", Set.of())));
    assertEquals(List.of("d", "b", "c"), ids(pending.topMatches(X, 5, null, Set.of("a"))));
  }

  @Test
  void ageCountsFromTheOldestUnrefreshedWriteIncludingDeletes() {
    PendingWrites pending = new PendingWrites();
    assertEquals(0, pending.ageNanos(100));

    pending.delete("never-pending", 10);
    pending.upsert("a", X, null, 50);

    assertTrue(pending.hasWrites());
    assertEquals(90, pending.ageNanos(100));
    pending.clear();
    assertFalse(pending.hasWrites());
    assertEquals(0, pending.size());
    assertEquals(List.of(), pending.topMatches(X, 3, null, Set.of()));
  }
}
