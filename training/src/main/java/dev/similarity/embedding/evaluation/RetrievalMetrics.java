package dev.similarity.embedding.evaluation;

import java.util.Arrays;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

/**
 * Leave-one-out retrieval quality of labelled, L2-normalised embeddings: every item is a query
 * against all the others (the query itself is never among its own results), ranked by cosine
 * similarity, exactly (no index).
 *
 * @param precisionAt1 mean fraction of same-class items among the top 1
 * @param precisionAt5 ... top 5
 * @param precisionAt10 ... top 10
 * @param recallAt10 fraction of queries with at least one same-class item in the top 10
 * @param mapAtR MAP@R (Musgrave et al. 2020): R = number of other same-class items; mean over
 *     queries of (1/R) * sum over the top R of precision@i at each same-class hit
 * @param knnAccuracy fraction of queries whose top-10 majority vote (ties: the closest of the tied
 *     classes) is the query's class
 * @param confusionMatrix [true class][voted class] counts of the k-NN vote
 */
public record RetrievalMetrics(
    int queries,
    double precisionAt1,
    double precisionAt5,
    double precisionAt10,
    double recallAt10,
    double mapAtR,
    double knnAccuracy,
    long[][] confusionMatrix) {

  /** Neighbours voting for the k-NN category. */
  public static final int VOTE_K = 10;

  /**
   * Computes all metrics.
   *
   * @param vectors one L2-normalised vector per item, all of the same length
   * @param labels class of each item, 0..classes-1
   * @param threads worker threads for the exact search (1 = calling thread only)
   */
  public static RetrievalMetrics compute(float[][] vectors, int[] labels, int classes, int threads) {
    int n = vectors.length;
    if (n != labels.length || n < 2) {
      throw new IllegalArgumentException("need at least 2 items with one label each, got "
          + n + " vectors and " + labels.length + " labels");
    }
    int[] classSize = new int[classes];
    for (int label : labels) {
      if (label < 0 || label >= classes) {
        throw new IllegalArgumentException("label " + label + " outside 0.." + (classes - 1));
      }
      classSize[label]++;
    }
    float[] flat = flatten(vectors);
    int dim = vectors[0].length;
    double[][] perQuery = new double[n][];
    int[] votes = new int[n];
    int workers = Math.max(1, threads);
    try (ExecutorService pool = Executors.newFixedThreadPool(workers)) {
      Future<?>[] futures = new Future<?>[workers];
      for (int w = 0; w < workers; w++) {
        int worker = w;
        futures[w] = pool.submit(() -> {
          float[] scores = new float[n];
          for (int q = worker; q < n; q += workers) {
            similarities(flat, dim, q, scores);
            int r = classSize[labels[q]] - 1;
            perQuery[q] = evaluateQuery(scores, labels, q, r, classes, votes);
          }
        });
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } catch (Exception e) {
      throw new IllegalStateException("metric computation failed", e);
    }
    double[] sums = new double[5];
    long[][] confusion = new long[classes][classes];
    int correct = 0;
    for (int q = 0; q < n; q++) {
      for (int m = 0; m < 5; m++) {
        sums[m] += perQuery[q][m];
      }
      confusion[labels[q]][votes[q]]++;
      if (votes[q] == labels[q]) {
        correct++;
      }
    }
    return new RetrievalMetrics(n, sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n, sums[4] / n,
        (double) correct / n, confusion);
  }

  private static float[] flatten(float[][] vectors) {
    int dim = vectors[0].length;
    float[] flat = new float[vectors.length * dim];
    for (int i = 0; i < vectors.length; i++) {
      if (vectors[i].length != dim) {
        throw new IllegalArgumentException("vector " + i + " has " + vectors[i].length
            + " dimensions, expected " + dim);
      }
      System.arraycopy(vectors[i], 0, flat, i * dim, dim);
    }
    return flat;
  }

  // Dot product of query q with every item; four accumulators let the JIT overlap the adds.
  private static void similarities(float[] flat, int dim, int q, float[] out) {
    int qo = q * dim;
    int n = out.length;
    for (int j = 0; j < n; j++) {
      int jo = j * dim;
      float a0 = 0;
      float a1 = 0;
      float a2 = 0;
      float a3 = 0;
      int k = 0;
      for (; k + 3 < dim; k += 4) {
        a0 += flat[qo + k] * flat[jo + k];
        a1 += flat[qo + k + 1] * flat[jo + k + 1];
        a2 += flat[qo + k + 2] * flat[jo + k + 2];
        a3 += flat[qo + k + 3] * flat[jo + k + 3];
      }
      for (; k < dim; k++) {
        a0 += flat[qo + k] * flat[jo + k];
      }
      out[j] = (a0 + a1) + (a2 + a3);
    }
  }

  // Returns {p@1, p@5, p@10, recall@10, AP@R} of one query and stores its k-NN vote.
  private static double[] evaluateQuery(float[] scores, int[] labels, int q, int r, int classes,
      int[] votes) {
    int label = labels[q];
    int depth = Math.max(r, VOTE_K);
    int[] ranked = topK(scores, q, Math.min(depth, scores.length - 1));
    int hits = 0;
    double p1 = 0;
    double p5 = 0;
    double p10 = 0;
    double apSum = 0;
    for (int i = 0; i < ranked.length; i++) {
      boolean hit = labels[ranked[i]] == label;
      if (hit) {
        hits++;
        if (i < r) {
          apSum += (double) hits / (i + 1);
        }
      }
      if (i == 0) {
        p1 = hits;
      } else if (i == 4) {
        p5 = hits / 5.0;
      } else if (i == 9) {
        p10 = hits / 10.0;
      }
    }
    int hitsIn10 = 0;
    int[] tally = new int[classes];
    for (int i = 0; i < Math.min(VOTE_K, ranked.length); i++) {
      tally[labels[ranked[i]]]++;
      if (labels[ranked[i]] == label) {
        hitsIn10++;
      }
    }
    int best = -1;
    for (int i = 0; i < Math.min(VOTE_K, ranked.length); i++) {
      int c = labels[ranked[i]];
      // Walking in rank order, a later class must strictly beat the tally: ties go to the closer one.
      if (best < 0 || tally[c] > tally[best]) {
        best = c;
      }
    }
    votes[q] = best;
    double apAtR = r == 0 ? 0 : apSum / r;
    return new double[] {p1, p5, p10, hitsIn10 > 0 ? 1 : 0, apAtR};
  }

  /**
   * Indices of the {@code k} highest scores excluding {@code self} (-1: exclude none), best first;
   * ties broken by the lower index so results are deterministic.
   */
  static int[] topK(float[] scores, int self, int k) {
    int n = scores.length;
    float threshold = kthLargest(scores, self, k);
    int[] candidates = new int[n];
    int count = 0;
    for (int j = 0; j < n; j++) {
      if (j != self && scores[j] >= threshold) {
        candidates[count++] = j;
      }
    }
    Integer[] boxed = new Integer[count];
    for (int i = 0; i < count; i++) {
      boxed[i] = candidates[i];
    }
    Arrays.sort(boxed, (a, b) -> {
      int c = Float.compare(scores[b], scores[a]);
      return c != 0 ? c : Integer.compare(a, b);
    });
    return IntStream.range(0, k).map(i -> boxed[i]).toArray();
  }

  // Quickselect on a copy without the query's own score.
  private static float kthLargest(float[] scores, int self, int k) {
    float[] copy = new float[self >= 0 ? scores.length - 1 : scores.length];
    for (int j = 0, c = 0; j < scores.length; j++) {
      if (j != self) {
        copy[c++] = scores[j];
      }
    }
    int target = k - 1;
    int lo = 0;
    int hi = copy.length - 1;
    while (lo < hi) {
      float pivot = copy[(lo + hi) >>> 1];
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (copy[i] > pivot) {
          i++;
        }
        while (copy[j] < pivot) {
          j--;
        }
        if (i <= j) {
          float t = copy[i];
          copy[i] = copy[j];
          copy[j] = t;
          i++;
          j--;
        }
      }
      if (target <= j) {
        hi = j;
      } else if (target >= i) {
        lo = i;
      } else {
        return copy[target];
      }
    }
    return copy[target];
  }
}
