package dev.similarity.index;

import static dev.similarity.index.TestVectors.unit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ShardIndexSearchOptionsTest {

  private static final int DIM = 4;
  private static final float[] X = unit(1, 0, 0, 0);

  private ShardIndex index;

  @BeforeEach
  void openWithHalfRefreshedHalfPendingProducts() {
    index =
        ShardIndex.builder()
            .dimension(DIM)
            .refreshPendingThreshold(1_000_000)
            .refreshMaxAge(Duration.ofDays(1))
            .build();
    index.upsert("shoe-1", unit(1, 0.1f, 0, 0), "shoes");
    index.upsert("bag-1", unit(1, 0.2f, 0, 0), "bags");
    index.upsert("plain-1", unit(1, 0.3f, 0, 0), null);
    index.refresh();
    index.upsert("shoe-2", unit(1, 0.15f, 0, 0), "shoes");
    index.upsert("bag-2", unit(1, 0.25f, 0, 0), "bags");
    index.upsert("plain-2", unit(1, 0.35f, 0, 0), null);
  }

  @AfterEach
  void close() {
    index.close();
  }

  private List<String> ids(float[] query, int k, SearchOptions options) {
    return index.search(query, k, options).stream().map(ScoredProduct::productId).toList();
  }

  @Test
  void excludedIdsAreNeverReturnedWhetherRefreshedOrPending() {
    List<String> found = ids(X, 10, SearchOptions.NONE.exclude(Set.of("shoe-1", "shoe-2")));

    assertEquals(List.of("bag-1", "bag-2", "plain-1", "plain-2"), found);
  }

  @Test
  void excludingTheBestMatchStillReturnsKResults() {
    assertEquals(List.of("shoe-2", "bag-1"), ids(X, 2, SearchOptions.NONE.exclude("shoe-1")));
  }

  @Test
  void categoryFilterKeepsOnlyThatCategory() {
    assertEquals(List.of("shoe-1", "shoe-2"), ids(X, 10, SearchOptions.NONE.category("shoes")));
    assertEquals(List.of("bag-1", "bag-2"), ids(X, 10, SearchOptions.NONE.category("bags")));
    assertEquals(List.of(), ids(X, 10, SearchOptions.NONE.category("hats")));
  }

  @Test
  void categoryFilterAndExclusionCombine() {
    assertEquals(List.of("bag-2"), ids(X, 10, SearchOptions.NONE.category("bags").exclude("bag-1")));
  }

  @Test
  void categoryFollowsAnOverwrite() {
    index.upsert("shoe-1", unit(1, 0.1f, 0, 0), "bags");

    assertEquals(List.of("shoe-2"), ids(X, 10, SearchOptions.NONE.category("shoes")));
    assertEquals(List.of("shoe-1", "bag-1", "bag-2"), ids(X, 10, SearchOptions.NONE.category("bags")));
  }

  @Test
  void kLargerThanSizeReturnsAllOthers() {
    List<String> found = ids(X, 1_000, SearchOptions.NONE.exclude("plain-2"));

    assertEquals(List.of("shoe-1", "shoe-2", "bag-1", "bag-2", "plain-1"), found);
  }

  @Test
  void kLargerThanSizeReturnsEveryProductOfALargerIndex() {
    try (ShardIndex big = ShardIndex.builder().dimension(DIM).build()) {
      for (int i = 0; i < 500; i++) {
        double angle = i * 0.01;
        big.upsert("p" + i, unit((float) Math.cos(angle), (float) Math.sin(angle), 0.1f, 0), null);
      }
      big.refresh();
      big.upsert("pending", unit(0, 0, 1, 0), null);

      List<ScoredProduct> all = big.search(X, 10_000, SearchOptions.NONE.exclude("p0"));

      assertEquals(500, all.size());
      assertEquals(500, all.stream().map(ScoredProduct::productId).distinct().count());
      assertTrue(all.stream().noneMatch(p -> p.productId().equals("p0")));
    }
  }

  @Test
  void emptyIndexReturnsEmptyList() {
    try (ShardIndex empty = ShardIndex.builder().dimension(DIM).build()) {
      assertEquals(List.of(), empty.search(X, 10, SearchOptions.NONE));
      empty.refresh();
      assertEquals(List.of(), empty.search(X, 10, SearchOptions.NONE.category("shoes")));
      assertEquals(0, empty.size());
    }
  }

  @Test
  void searchOptionsAreImmutable() {
    SearchOptions shoes = SearchOptions.NONE.category("shoes");
    SearchOptions shoesWithoutOne = shoes.exclude("shoe-1");

    assertEquals(Set.of(), SearchOptions.NONE.excludedIds());
    assertTrue(SearchOptions.NONE.category().isEmpty());
    assertEquals(Set.of(), shoes.excludedIds());
    assertEquals(Set.of("shoe-1"), shoesWithoutOne.excludedIds());
    assertEquals("shoes", shoesWithoutOne.category().orElseThrow());
  }

  @Test
  void refusesQueriesItCannotAnswer() {
    IllegalArgumentException wrongDimension =
        assertThrows(IllegalArgumentException.class, () -> index.search(unit(1, 0, 0), 3, SearchOptions.NONE));
    assertTrue(wrongDimension.getMessage().contains("query vector has 3 dimensions"), wrongDimension.getMessage());
    IllegalArgumentException zeroK =
        assertThrows(IllegalArgumentException.class, () -> index.search(X, 0, SearchOptions.NONE));
    assertTrue(zeroK.getMessage().contains("k is 0"), zeroK.getMessage());
    assertThrows(IllegalArgumentException.class, () -> SearchOptions.NONE.candidates(0));
  }
}
