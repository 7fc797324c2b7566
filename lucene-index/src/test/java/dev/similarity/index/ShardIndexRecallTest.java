package dev.similarity.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.similarity.index.tools.ClusteredUnitVectors;
import dev.similarity.index.tools.ExactNeighbours;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.lucene.util.VectorUtil;
import org.junit.jupiter.api.Test;

/**
 * Recall with the default settings while writes stream in: queries interleave with inserts,
 * overwrites and deletes, and every answer is compared with exact search over the products live at
 * that moment. Half the queries sit next to a product written just before, so an index that did not
 * search its pending writes would miss a tenth of their neighbours.
 */
class ShardIndexRecallTest {

  private static final int DIM = 128;
  private static final int BULK = 16_000;
  private static final int WRITES = 4_000;
  private static final int WRITES_PER_QUERY = 20;
  private static final int K = 10;

  @Test
  void recallAtTenStaysAboveNinetyFivePercentWhileWritesInterleave() {
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 100, 1.5, 20_240_611L);
    SplittableRandom random = new SplittableRandom(7);
    Map<String, float[]> live = new HashMap<>();
    List<String> liveIds = new ArrayList<>();
    Set<String> deleted = new HashSet<>();

    try (ShardIndex index = ShardIndex.builder().dimension(DIM).build()) {
      List<ProductVector> initial = new ArrayList<>();
      for (int i = 0; i < BULK; i++) {
        String id = "p" + i;
        float[] v = vectors.next();
        initial.add(new ProductVector(id, v, null));
        live.put(id, v);
        liveIds.add(id);
      }
      assertEquals(BULK, index.bulkLoad(initial));

      double recallSum = 0;
      int queries = 0;
      int nextId = BULK;
      String lastWritten = null;
      for (int w = 1; w <= WRITES; w++) {
        int kind = random.nextInt(10);
        if (kind < 6) { // a new product
          String id = "p" + nextId++;
          float[] v = vectors.next();
          index.upsert(id, v, null);
          live.put(id, v);
          liveIds.add(id);
          deleted.remove(id);
          lastWritten = id;
        } else if (kind < 9) { // an existing product gets a new image
          String id = liveIds.get(random.nextInt(liveIds.size()));
          float[] v = vectors.next();
          index.upsert(id, v, null);
          live.put(id, v);
          lastWritten = id;
        } else { // a product leaves the catalogue
          int at = random.nextInt(liveIds.size());
          String id = liveIds.get(at);
          liveIds.set(at, liveIds.get(liveIds.size() - 1));
          liveIds.remove(liveIds.size() - 1);
          assertTrue(index.delete(id));
          live.remove(id);
          deleted.add(id);
        }
        if (w % WRITES_PER_QUERY == 0) {
          float[] query =
              queries % 2 == 0 && lastWritten != null && live.containsKey(lastWritten)
                  ? nudge(live.get(lastWritten), random)
                  : vectors.next();
          List<ScoredProduct> found = index.search(query, K, SearchOptions.NONE);
          assertEquals(K, found.size());
          assertEquals(K, found.stream().map(ScoredProduct::productId).distinct().count(), "duplicates");
          for (ScoredProduct product : found) {
            if (deleted.contains(product.productId())) {
              fail("deleted product " + product.productId() + " returned after " + w + " writes");
            }
            float exact = VectorUtil.dotProduct(query, live.get(product.productId()));
            assertEquals(exact, product.score(), 1e-4f, "score of " + product.productId() + " is from an old vector");
          }
          recallSum += ExactNeighbours.recall(ExactNeighbours.topIds(query, live, K), found);
          queries++;
        }
      }
      assertEquals(live.size(), index.size());
      double recall = recallSum / queries;
      System.out.printf("recall@%d %.4f over %d queries, %s%n", K, recall, queries, index.stats());
      assertEquals(WRITES / WRITES_PER_QUERY, queries);
      assertTrue(recall >= 0.95, "mean recall@10 " + recall + " over " + queries + " queries");
    }
  }

  /** A unit vector close to {@code v}: a query for a product just like one just written. */
  private static float[] nudge(float[] v, SplittableRandom random) {
    float[] near = v.clone();
    for (int i = 0; i < near.length; i++) {
      near[i] += (float) (0.02 * random.nextGaussian());
    }
    return VectorUtil.l2normalize(near);
  }
}
