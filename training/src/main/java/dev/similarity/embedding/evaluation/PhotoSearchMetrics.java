package dev.similarity.embedding.evaluation;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Photo-to-catalogue retrieval quality (Street2Shop-style): each query photo shows one catalogue
 * item, whose catalogue image is the one right answer in the gallery; the gallery is ranked by
 * cosine similarity to the query, exactly (no index), ties by the lower gallery index.
 *
 * @param queries number of query photos
 * @param exactItemRecallAt1 fraction of queries whose own item is ranked first
 * @param exactItemRecallAt10 fraction of queries whose own item is among the top 10
 * @param precisionAt10 mean fraction of the top 10 in the query item's category
 * @param meanRank mean 1-based rank of the query's own item
 */
public record PhotoSearchMetrics(int queries, double exactItemRecallAt1, double exactItemRecallAt10,
    double precisionAt10, double meanRank) {

  /** The depth of recall@10 and precision@10. */
  public static final int K = 10;

  /**
   * Computes all metrics.
   *
   * @param queryVectors L2-normalised query embeddings, one per photo
   * @param queryItems gallery index of the item each photo shows
   * @param galleryVectors L2-normalised catalogue embeddings, same dimension
   * @param galleryLabels category of each gallery image
   * @param threads worker threads (1 = calling thread only)
   * @throws IllegalArgumentException on mismatched lengths or dimensions, a gallery under
   *     {@value #K} images or an item outside the gallery
   */
  public static PhotoSearchMetrics compute(float[][] queryVectors, int[] queryItems, float[][] galleryVectors,
      int[] galleryLabels, int threads) {
    int q = queryVectors.length;
    int n = galleryVectors.length;
    if (q == 0 || q != queryItems.length) {
      throw new IllegalArgumentException("need at least 1 query with one item each, got " + q
          + " vectors and " + queryItems.length + " items");
    }
    if (n < K || n != galleryLabels.length) {
      throw new IllegalArgumentException("need a gallery of at least " + K + " images with one label each, got "
          + n + " vectors and " + galleryLabels.length + " labels");
    }
    int dim = galleryVectors[0].length;
    for (int i = 0; i < q; i++) {
      if (queryVectors[i].length != dim) {
        throw new IllegalArgumentException("query " + i + " has " + queryVectors[i].length
            + " dimensions, the gallery " + dim);
      }
      if (queryItems[i] < 0 || queryItems[i] >= n) {
        throw new IllegalArgumentException("query " + i + " shows item " + queryItems[i]
            + ", outside the gallery 0.." + (n - 1));
      }
    }
    double[][] perQuery = new double[q][];
    int workers = Math.max(1, threads);
    try (ExecutorService pool = Executors.newFixedThreadPool(workers)) {
      Future<?>[] futures = new Future<?>[workers];
      for (int w = 0; w < workers; w++) {
        int worker = w;
        futures[w] = pool.submit(() -> {
          float[] scores = new float[n];
          for (int i = worker; i < q; i += workers) {
            for (int j = 0; j < n; j++) {
              scores[j] = dot(queryVectors[i], galleryVectors[j]);
            }
            perQuery[i] = evaluate(scores, queryItems[i], galleryLabels);
          }
        });
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } catch (Exception e) {
      throw new IllegalStateException("metric computation failed", e);
    }
    double[] sums = new double[4];
    for (double[] m : perQuery) {
      for (int k = 0; k < sums.length; k++) {
        sums[k] += m[k];
      }
    }
    return new PhotoSearchMetrics(q, sums[0] / q, sums[1] / q, sums[2] / q, sums[3] / q);
  }

  // {hit@1, hit@10, precision@10, rank} of one query.
  private static double[] evaluate(float[] scores, int item, int[] labels) {
    int[] top = RetrievalMetrics.topK(scores, -1, K);
    int label = labels[item];
    int sameCategory = 0;
    for (int g : top) {
      if (labels[g] == label) {
        sameCategory++;
      }
    }
    // Rank of the right answer: 1 + images scored above it (equal scores: lower index first).
    float own = scores[item];
    int rank = 1;
    for (int j = 0; j < scores.length; j++) {
      if (scores[j] > own || scores[j] == own && j < item) {
        rank++;
      }
    }
    return new double[] {top[0] == item ? 1 : 0, rank <= K ? 1 : 0, (double) sameCategory / K, rank};
  }

  private static float dot(float[] a, float[] b) {
    float s0 = 0;
    float s1 = 0;
    int k = 0;
    for (; k + 1 < a.length; k += 2) {
      s0 += a[k] * b[k];
      s1 += a[k + 1] * b[k + 1];
    }
    if (k < a.length) {
      s0 += a[k] * b[k];
    }
    return s0 + s1;
  }
}
