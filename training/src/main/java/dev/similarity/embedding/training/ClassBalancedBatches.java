package dev.similarity.embedding.training;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * P x K sampling: each batch holds {@code perClass} images of each of the {@code classes}
 * categories, so every anchor has positives and negatives. An epoch visits every image at most
 * once (per class, in a fresh seeded shuffle); it ends when the smallest class runs out.
 */
final class ClassBalancedBatches {

  private final int[][] byClass;
  private final int perClass;
  private final int batchesPerEpoch;

  ClassBalancedBatches(int[] labels, int classes, int perClass) {
    if (perClass < 2) {
      throw new IllegalArgumentException("perClass must be at least 2 to form positive pairs, was " + perClass);
    }
    List<List<Integer>> lists = new ArrayList<>();
    for (int c = 0; c < classes; c++) {
      lists.add(new ArrayList<>());
    }
    for (int i = 0; i < labels.length; i++) {
      lists.get(labels[i]).add(i);
    }
    this.byClass = new int[classes][];
    int smallest = Integer.MAX_VALUE;
    for (int c = 0; c < classes; c++) {
      byClass[c] = lists.get(c).stream().mapToInt(Integer::intValue).toArray();
      smallest = Math.min(smallest, byClass[c].length);
    }
    this.perClass = perClass;
    this.batchesPerEpoch = smallest / perClass;
    if (batchesPerEpoch == 0) {
      throw new IllegalArgumentException("a class has " + smallest + " images, fewer than perClass=" + perClass);
    }
  }

  int batchSize() {
    return byClass.length * perClass;
  }

  int batchesPerEpoch() {
    return batchesPerEpoch;
  }

  /** The image indices of every batch of one epoch, classes interleaved within a batch. */
  int[][] epoch(SplittableRandom random) {
    int[][] shuffled = new int[byClass.length][];
    for (int c = 0; c < byClass.length; c++) {
      shuffled[c] = byClass[c].clone();
      shuffle(shuffled[c], random);
    }
    int[][] batches = new int[batchesPerEpoch][batchSize()];
    for (int b = 0; b < batchesPerEpoch; b++) {
      int k = 0;
      for (int c = 0; c < byClass.length; c++) {
        for (int j = 0; j < perClass; j++) {
          batches[b][k++] = shuffled[c][b * perClass + j];
        }
      }
    }
    return batches;
  }

  private static void shuffle(int[] a, SplittableRandom random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
