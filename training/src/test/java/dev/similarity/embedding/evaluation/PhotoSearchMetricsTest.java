package dev.similarity.embedding.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PhotoSearchMetricsTest {

  // Gallery of 12 catalogue images on the unit circle, 30 degrees apart; category = index / 4
  // (images 0-3 category 0, 4-7 category 1, 8-11 category 2).
  private static final float[][] GALLERY = new float[12][];
  private static final int[] LABELS = new int[12];

  static {
    for (int i = 0; i < 12; i++) {
      GALLERY[i] = unit(30 * i);
      LABELS[i] = i / 4;
    }
  }

  @Test
  void matchesHandComputedRecallAndPrecision() {
    // Query 0 shows item 1 and sits at 31 deg: item 1 first. Its top 10 leave out the two farthest
    // images, at 211 and 241 deg (items 7 and 8): category 0 holds 4 of the 10 -> precision 0.4.
    // Query 1 shows item 5 (150 deg) but sits at 92 deg: item 3 (90) is first, then 4 (120), 2 (60),
    // 5 (150): rank 4 -> recall@1 0, recall@10 1; its top 10 misses the images at 270 and 300 deg
    // (items 9 and 10): category 1 holds 4 of 10 -> 0.4.
    // Query 2 shows item 11 (330 deg) but sits at 155 deg, nearly opposite: rank 12 -> both 0; its
    // top 10 misses items 0 and 11 (the two farthest): category 2 holds 8, 9, 10 of them -> 0.3.
    float[][] queries = {unit(31), unit(92), unit(155)};
    int[] items = {1, 5, 11};
    PhotoSearchMetrics m = PhotoSearchMetrics.compute(queries, items, GALLERY, LABELS, 1);
    assertEquals(3, m.queries());
    assertEquals(1.0 / 3, m.exactItemRecallAt1(), 1e-9);
    assertEquals(2.0 / 3, m.exactItemRecallAt10(), 1e-9);
    assertEquals((0.4 + 0.4 + 0.3) / 3, m.precisionAt10(), 1e-9);
    assertEquals((1 + 4 + 12) / 3.0, m.meanRank(), 1e-9);
  }

  @Test
  void aWrongRankingLowersRecall() {
    float[][] right = new float[12][];
    float[][] wrong = new float[12][];
    int[] items = new int[12];
    for (int i = 0; i < 12; i++) {
      items[i] = i;
      right[i] = unit(30 * i + 3);
      // Every query embedded near the item opposite its own: its own item is ranked last.
      wrong[i] = unit(30 * i + 180 + 3);
    }
    PhotoSearchMetrics good = PhotoSearchMetrics.compute(right, items, GALLERY, LABELS, 2);
    PhotoSearchMetrics bad = PhotoSearchMetrics.compute(wrong, items, GALLERY, LABELS, 2);
    assertEquals(1.0, good.exactItemRecallAt1(), 1e-9);
    assertEquals(1.0, good.exactItemRecallAt10(), 1e-9);
    assertEquals(0.0, bad.exactItemRecallAt1(), 1e-9);
    assertEquals(0.0, bad.exactItemRecallAt10(), 1e-9);
    assertEquals(12.0, bad.meanRank(), 1e-9);
  }

  @Test
  void tiesGoToTheLowerGalleryIndex() {
    // Two identical catalogue images: a query showing the second one ranks it second.
    float[][] gallery = GALLERY.clone();
    gallery[7] = gallery[6];
    PhotoSearchMetrics m = PhotoSearchMetrics.compute(new float[][] {unit(180)}, new int[] {7}, gallery, LABELS, 1);
    assertEquals(0.0, m.exactItemRecallAt1(), 1e-9);
    assertEquals(2.0, m.meanRank(), 1e-9);
  }

  @Test
  void refusesItemsOutsideTheGalleryAndMismatchedDimensions() {
    assertThrows(IllegalArgumentException.class,
        () -> PhotoSearchMetrics.compute(new float[][] {unit(0)}, new int[] {12}, GALLERY, LABELS, 1));
    assertThrows(IllegalArgumentException.class,
        () -> PhotoSearchMetrics.compute(new float[][] {{1, 0, 0}}, new int[] {0}, GALLERY, LABELS, 1));
  }

  private static float[] unit(double degrees) {
    double r = Math.toRadians(degrees);
    return new float[] {(float) Math.cos(r), (float) Math.sin(r)};
  }
}
