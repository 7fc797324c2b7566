package dev.similarity.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.similarity.index.tools.ClusteredUnitVectors;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.util.VectorUtil;
import org.junit.jupiter.api.Test;

/**
 * The search path over the segments' HNSW graphs (vectors on the heap, ids read once per document)
 * and the batch search: answers are the exact ones on small shards, across flushes, merges,
 * overwrites, deletes and pending writes.
 */
class ShardIndexGraphSearchTest {

  private static final int DIM = 16;

  private final ClusteredUnitVectors generator = new ClusteredUnitVectors(DIM, 6, 1.0, 3);
  private final Map<String, float[]> live = new HashMap<>();
  private final Map<String, String> categories = new HashMap<>();

  private static ShardIndex manualRefreshIndex() {
    // Candidates beyond the shard's size: the graph search visits every node, so it is exact.
    return ShardIndex.builder()
        .dimension(DIM)
        .searchCandidates(2_000)
        .refreshPendingThreshold(1_000_000)
        .refreshMaxAge(Duration.ofDays(1))
        .build();
  }

  private void upsert(ShardIndex index, String id) {
    float[] v = generator.next();
    String category = "c" + Math.floorMod(id.hashCode(), 3);
    index.upsert(id, v, category);
    live.put(id, v);
    categories.put(id, category);
  }

  private List<ScoredProduct> exact(float[] query, int k, String category, String excluded) {
    return live.entrySet().stream()
        .filter(e -> !e.getKey().equals(excluded))
        .filter(e -> category == null || category.equals(categories.get(e.getKey())))
        .map(e -> new ScoredProduct(e.getKey(), VectorUtil.dotProduct(query, e.getValue())))
        .sorted(Comparator.comparingDouble(ScoredProduct::score).reversed().thenComparing(ScoredProduct::productId))
        .limit(k)
        .toList();
  }

  private static List<String> ids(List<ScoredProduct> hits) {
    return hits.stream().map(ScoredProduct::productId).toList();
  }

  /** Flushed segments, a merge, overwrites and deletes hidden in older segments, pending writes. */
  private ShardIndex shardWithHistory() {
    ShardIndex index = manualRefreshIndex();
    for (int batch = 0; batch < 6; batch++) {
      for (int i = 0; i < 150; i++) {
        upsert(index, "p" + (batch * 150 + i));
      }
      index.refresh();
    }
    index.awaitMerges();
    for (int i = 0; i < 900; i += 7) {
      upsert(index, "p" + i); // a new vector; the old copy stays in its segment, hidden
    }
    index.refresh();
    for (int i = 3; i < 900; i += 11) {
      index.delete("p" + i);
      live.remove("p" + i);
    }
    for (int i = 900; i < 960; i++) {
      upsert(index, "p" + i); // pending
    }
    for (int i = 1; i < 900; i += 13) {
      upsert(index, "p" + i); // pending overwrites of refreshed products
    }
    return index;
  }

  @Test
  void searchesAcrossSegmentsAndPendingWritesGiveTheExactNeighbours() {
    try (ShardIndex index = shardWithHistory()) {
      assertThat(index.segmentCount()).isGreaterThanOrEqualTo(1);
      assertThat(index.size()).isEqualTo(live.size());
      for (int q = 0; q < 40; q++) {
        float[] query = generator.next();
        List<ScoredProduct> found = index.search(query, 10, SearchOptions.NONE);
        assertThat(ids(found)).containsExactlyElementsOf(ids(exact(query, 10, null, null)));
        for (int i = 0; i < found.size(); i++) {
          assertThat(found.get(i).score())
              .isCloseTo(VectorUtil.dotProduct(query, live.get(found.get(i).productId())),
                  org.assertj.core.data.Offset.offset(1e-5f));
        }
      }
    }
  }

  /**
   * The graph walk scores by int8 codes, which cannot tell these vectors apart (they differ by
   * 1e-4 in one component); the hits must still come in the order of their exact scores, with
   * those scores.
   */
  @Test
  void hitsThatInt8CodesCannotTellApartAreRankedByTheirExactScores() {
    try (ShardIndex index = manualRefreshIndex()) {
      float[] query = TestVectors.axis(DIM, 0);
      for (int i = 0; i < 200; i++) {
        upsert(index, "far" + i); // clustered vectors elsewhere, so the graph has a real shape
      }
      // Inserted worst first: ties on the codes would come back in document order, worst first.
      for (int i = 9; i >= 0; i--) {
        float[] v = query.clone();
        v[1] = 0.05f + 1e-4f * i;
        VectorUtil.l2normalize(v);
        index.upsert("near" + i, v, null);
        live.put("near" + i, v);
      }
      index.refresh();

      List<ScoredProduct> found = index.search(query, 10, SearchOptions.NONE);

      assertThat(ids(found))
          .containsExactly(
              "near0", "near1", "near2", "near3", "near4", "near5", "near6", "near7", "near8",
              "near9");
      for (ScoredProduct hit : found) {
        assertThat(hit.score())
            .isEqualTo(VectorUtil.dotProduct(query, live.get(hit.productId())),
                org.assertj.core.data.Offset.offset(1e-6f));
      }
    }
  }

  @Test
  void idsOfSegmentsKeptAcrossRefreshesAreReadFromTheLiveReader() {
    try (ShardIndex index = manualRefreshIndex()) {
      for (int i = 0; i < 200; i++) {
        upsert(index, "a" + i);
      }
      index.refresh();
      float[] first = live.get("a0");
      assertThat(index.search(first, 1, SearchOptions.NONE).get(0).productId()).isEqualTo("a0");
      // New views keep the first segment (and what was read from it) while earlier readers close.
      for (int round = 0; round < 5; round++) {
        upsert(index, "b" + round);
        index.refresh();
      }
      for (int i = 0; i < 200; i += 9) {
        assertThat(index.search(live.get("a" + i), 1, SearchOptions.NONE).get(0).productId())
            .isEqualTo("a" + i);
      }
    }
  }

  @Test
  void batchSearchAnswersEachQueryAsSingleSearchesWould() {
    try (ShardIndex index = shardWithHistory()) {
      float[][] queries = new float[70][]; // more than one block of the exact-search buffer
      for (int q = 0; q < queries.length; q++) {
        queries[q] = generator.next();
      }
      List<SearchOptions> optionSets = List.of(
          SearchOptions.NONE,
          SearchOptions.NONE.exclude("p905").exclude("p14"),
          SearchOptions.NONE.category("c1"),
          SearchOptions.NONE.candidates(20));
      for (SearchOptions options : optionSets) {
        List<List<ScoredProduct>> batch = index.search(queries, 10, options);
        assertThat(batch).hasSize(queries.length);
        for (int q = 0; q < queries.length; q++) {
          assertThat(batch.get(q)).as("query %d with %s", q, options)
              .isEqualTo(index.search(queries[q], 10, options));
        }
      }
      List<List<ScoredProduct>> excluded = index.search(queries, 10, SearchOptions.NONE.exclude("p905"));
      for (int q = 0; q < queries.length; q++) {
        assertThat(ids(excluded.get(q))).containsExactlyElementsOf(ids(exact(queries[q], 10, null, "p905")));
      }
    }
  }

  @Test
  void batchSearchRefusesABadQueryNamingItsPosition() {
    try (ShardIndex index = manualRefreshIndex()) {
      upsert(index, "a");
      float[][] queries = {generator.next(), new float[DIM]};
      assertThatThrownBy(() -> index.search(queries, 5, SearchOptions.NONE))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("query vector 1");
      assertThat(index.search(new float[0][], 5, SearchOptions.NONE)).isEmpty();
    }
  }
}
