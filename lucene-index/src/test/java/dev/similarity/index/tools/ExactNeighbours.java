package dev.similarity.index.tools;

import dev.similarity.index.ScoredProduct;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.lucene.util.VectorUtil;

/** Exact nearest neighbours by brute force: the ground truth that recall is measured against. */
public final class ExactNeighbours {

  private ExactNeighbours() {}

  /**
   * For each query, the rows of {@code base} with the {@code k} highest dot products, best first.
   * Queries run in parallel on all cores.
   */
  public static int[][] topRows(float[][] base, float[][] queries, int k) {
    int[][] result = new int[queries.length][];
    IntStream.range(0, queries.length)
        .parallel()
        .forEach(
            q -> {
              PriorityQueue<long[]> best = new PriorityQueue<>(k + 1, (a, b) -> Long.compare(a[0], b[0]));
              for (int row = 0; row < base.length; row++) {
                float score = VectorUtil.dotProduct(queries[q], base[row]);
                long key = sortableScore(score);
                if (best.size() < k) {
                  best.add(new long[] {key, row});
                } else if (key > best.peek()[0]) {
                  best.poll();
                  best.add(new long[] {key, row});
                }
              }
              int[] rows = new int[best.size()];
              for (int i = rows.length - 1; i >= 0; i--) {
                rows[i] = (int) best.poll()[1];
              }
              result[q] = rows;
            });
    return result;
  }

  /** The ids of the {@code k} live vectors with the highest dot product to {@code query}. */
  public static Set<String> topIds(float[] query, Map<String, float[]> live, int k) {
    PriorityQueue<ScoredProduct> best =
        new PriorityQueue<>(k + 1, (a, b) -> Float.compare(a.score(), b.score()));
    for (Map.Entry<String, float[]> entry : live.entrySet()) {
      float score = VectorUtil.dotProduct(query, entry.getValue());
      if (best.size() < k) {
        best.add(new ScoredProduct(entry.getKey(), score));
      } else if (score > best.peek().score()) {
        best.poll();
        best.add(new ScoredProduct(entry.getKey(), score));
      }
    }
    Set<String> ids = new HashSet<>();
    best.forEach(p -> ids.add(p.productId()));
    return ids;
  }

  /** Fraction of {@code truth} found among {@code found}: recall@|truth|. */
  public static double recall(Collection<String> truth, List<ScoredProduct> found) {
    if (truth.isEmpty()) {
      return 1.0;
    }
    Set<String> foundIds = new HashSet<>();
    found.forEach(p -> foundIds.add(p.productId()));
    long hits = truth.stream().filter(foundIds::contains).count();
    return hits / (double) truth.size();
  }

  /** The ids {@code idOfRow} gives to {@code rows}. */
  public static List<String> ids(int[] rows, java.util.function.IntFunction<String> idOfRow) {
    List<String> ids = new ArrayList<>(rows.length);
    for (int row : rows) {
      ids.add(idOfRow.apply(row));
    }
    return ids;
  }

  /** Maps a float to a long with the same order (for a primitive-keyed heap). */
  private static long sortableScore(float score) {
    int bits = Float.floatToIntBits(score);
    return bits ^ ((bits >> 31) & 0x7fffffff);
  }
}
