package dev.similarity.index;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.index.tools.ClusteredUnitVectors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.apache.lucene.util.VectorUtil;
import org.junit.jupiter.api.Test;

/**
 * A live shard of one big segment and a few small fresh ones (their graphs searched with narrower
 * beams) finds the exact top-k as well as the same shard force-merged into one graph.
 */
class ShardIndexSmallSegmentsTest {

  private static final int DIM = 16;
  private static final int K = 10;
  private static final int CANDIDATES = 40;

  @Test
  void aShardWithSmallFreshSegmentsFindsTheTopKAsWellAsItsForceMergedSelf() {
    ClusteredUnitVectors generator = new ClusteredUnitVectors(DIM, 20, 1.0, 11);
    List<float[]> vectors = new ArrayList<>();
    try (ShardIndex index =
        ShardIndex.builder()
            .dimension(DIM)
            .mergeMaxSegments(10) // no merge: the small segments stay far below the big one
            .mergeFullRatio(1.0)
            .refreshPendingThreshold(1_000_000)
            .refreshMaxAge(Duration.ofDays(1))
            .build()) {
      List<ProductVector> bulk = new ArrayList<>();
      for (int i = 0; i < 6_000; i++) {
        vectors.add(generator.next());
        bulk.add(new ProductVector("p" + i, vectors.get(i), null));
      }
      index.bulkLoad(bulk);
      for (int segment = 0; segment < 3; segment++) {
        for (int i = 0; i < 200; i++) {
          vectors.add(generator.next());
          index.upsert("p" + (vectors.size() - 1), vectors.getLast(), null);
        }
        index.refresh();
      }
      int segments = index.segmentCount(); // 4, or fewer where a refresh merged fresh ones
      assertTrue(segments >= 2, "a bulk-loaded segment and fresh ones: " + segments);
      float[][] queries = IntStream.range(0, 300).mapToObj(i -> generator.next()).toArray(float[][]::new);

      double live = recall(index, queries, vectors);
      index.forceMerge(1);
      double merged = recall(index, queries, vectors);

      System.out.printf("recall@%d at %d candidates: %d segments %.4f, force-merged %.4f%n", K, CANDIDATES, segments, live, merged);
      assertTrue(live >= 0.95, "recall of the " + segments + "-segment shard: " + live);
      assertTrue(live >= merged - 0.01, segments + " segments " + live + " vs force-merged " + merged);
    }
  }

  private static double recall(ShardIndex index, float[][] queries, List<float[]> vectors) {
    int found = 0;
    for (float[] query : queries) {
      Set<String> got = new HashSet<>();
      for (ScoredProduct hit : index.search(query, K, SearchOptions.NONE.candidates(CANDIDATES))) {
        got.add(hit.productId());
      }
      List<Integer> exact =
          IntStream.range(0, vectors.size()).boxed()
              .sorted(Comparator.comparingDouble((Integer i) -> -VectorUtil.dotProduct(query, vectors.get(i))))
              .limit(K)
              .toList();
      for (int i : exact) {
        found += got.contains("p" + i) ? 1 : 0;
      }
    }
    return found / (double) (queries.length * K);
  }
}
