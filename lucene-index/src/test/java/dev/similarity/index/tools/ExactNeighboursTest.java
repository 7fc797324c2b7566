package dev.similarity.index.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.similarity.index.ScoredProduct;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ExactNeighboursTest {

  private static final float[][] BASE = {{1, 0}, {0, 1}, {-1, 0}, {0.8f, 0.6f}};

  @Test
  void topRowsAreBestFirstByDotProduct() {
    int[][] rows = ExactNeighbours.topRows(BASE, new float[][] {{1, 0}, {-1, 0.1f}}, 2);

    assertArrayEquals(new int[] {0, 3}, rows[0]);
    assertArrayEquals(new int[] {2, 1}, rows[1]);
  }

  @Test
  void topIdsMatchTopRows() {
    Map<String, float[]> live = Map.of("a", BASE[0], "b", BASE[1], "c", BASE[2], "d", BASE[3]);

    assertEquals(Set.of("a", "d"), ExactNeighbours.topIds(new float[] {1, 0}, live, 2));
  }

  @Test
  void recallCountsFoundTruth() {
    List<ScoredProduct> found = List.of(new ScoredProduct("a", 1f), new ScoredProduct("x", 0.5f));

    assertEquals(0.5, ExactNeighbours.recall(List.of("a", "b"), found));
    assertEquals(1.0, ExactNeighbours.recall(List.of(), found));
  }
}
