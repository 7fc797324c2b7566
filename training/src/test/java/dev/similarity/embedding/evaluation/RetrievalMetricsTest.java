package dev.similarity.embedding.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RetrievalMetricsTest {

  @Test
  void matchesHandComputedPrecisionAndMapAtR() {
    // Angles in degrees on the unit circle; see the ranking worked out per query below.
    float[][] vectors = {unit(0), unit(10), unit(100), unit(110), unit(15)};
    int[] labels = {0, 0, 1, 1, 1};
    // q0: 1(L0) 4 2 3 -> p@1 1, R=1, AP 1.  q1: 4 0 2 3 -> p@1 0, AP 0.
    // q2: 3 4 1 0 -> p@1 1, R=2, AP 1.  q3: 2 4 1 0 -> 1, AP 1.  q4: 1 0 2 3 -> 0, R=2, AP 0.
    RetrievalMetrics m = RetrievalMetrics.compute(vectors, labels, 2, 1);
    assertEquals(0.6, m.precisionAt1(), 1e-9);
    assertEquals(0.6, m.mapAtR(), 1e-9);
  }

  @Test
  void excludesTheQueryFromItsOwnResults() {
    // Each vector has an exact twin of the other class: the only perfect match of a query is the
    // query itself, so counting it would give precision@1 = 1.
    float[][] vectors = {unit(0), unit(90), unit(0), unit(90)};
    int[] labels = {0, 0, 1, 1};
    RetrievalMetrics m = RetrievalMetrics.compute(vectors, labels, 2, 2);
    assertEquals(0.0, m.precisionAt1(), 1e-9);
  }

  @Test
  void perfectlySeparatedClassesScoreOneEverywhere() {
    int perClass = 12;
    float[][] vectors = new float[3 * perClass][];
    int[] labels = new int[vectors.length];
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < perClass; i++) {
        float[] v = new float[3];
        v[c] = 1f;
        v[(c + 1) % 3] = 0.01f * i;
        vectors[c * perClass + i] = normalise(v);
        labels[c * perClass + i] = c;
      }
    }
    RetrievalMetrics m = RetrievalMetrics.compute(vectors, labels, 3, 2);
    assertEquals(1.0, m.precisionAt1(), 1e-9);
    assertEquals(1.0, m.precisionAt5(), 1e-9);
    assertEquals(1.0, m.precisionAt10(), 1e-9);
    assertEquals(1.0, m.recallAt10(), 1e-9);
    assertEquals(1.0, m.mapAtR(), 1e-9);
    assertEquals(1.0, m.knnAccuracy(), 1e-9);
    assertArrayEquals(new long[] {perClass, 0, 0}, m.confusionMatrix()[0]);
  }

  @Test
  void tiedVoteGoesToTheClassWithTheCloserNeighbour() {
    // The query (class 1) has five class-2 neighbours at 1..5 degrees and five class-0 ones at
    // 6..10 degrees: 5 to 5, and class 2 ranks first.
    float[][] vectors = new float[11][];
    int[] labels = new int[11];
    vectors[0] = unit(0);
    labels[0] = 1;
    for (int i = 1; i <= 10; i++) {
      vectors[i] = unit(i);
      labels[i] = i <= 5 ? 2 : 0;
    }
    RetrievalMetrics m = RetrievalMetrics.compute(vectors, labels, 3, 1);
    assertArrayEquals(new long[] {0, 0, 1}, m.confusionMatrix()[1]);
  }

  @Test
  void topKBreaksScoreTiesByIndex() {
    float[] scores = {0.5f, 0.9f, 0.5f, 0.9f, 0.1f};
    assertArrayEquals(new int[] {1, 3, 2}, RetrievalMetrics.topK(scores, 0, 3));
  }

  @Test
  void refusesMismatchedLabels() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> RetrievalMetrics.compute(new float[][] {unit(0), unit(1)}, new int[] {0}, 2, 1));
    assertEquals("need at least 2 items with one label each, got 2 vectors and 1 labels", e.getMessage());
  }

  private static float[] unit(double degrees) {
    double r = Math.toRadians(degrees);
    return new float[] {(float) Math.cos(r), (float) Math.sin(r)};
  }

  private static float[] normalise(float[] v) {
    double s = 0;
    for (float x : v) {
      s += x * x;
    }
    for (int i = 0; i < v.length; i++) {
      v[i] /= (float) Math.sqrt(s);
    }
    return v;
  }
}
