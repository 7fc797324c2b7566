package dev.similarity.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.index.tools.ClusteredUnitVectors;
import dev.similarity.index.tools.ExactNeighbours;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Many products showing one picture (a "no image available" placeholder, one photo for every size)
 * are one image node with members, so identical vectors never crowd the HNSW graph.
 */
class ShardIndexSharedImagesTest {

  private static final int DIM = 128;
  private static final int OWN_IMAGES = 10_000;
  private static final int PLACEHOLDER_COPIES = 2_500; // a fifth of the 12,500 products
  private static final int K = 20;
  private static final int QUERIES = 500;

  @Test
  void aPlaceholderSharedByAFifthOfTheProductsIsOneNodeAndTheOthersKeepTheirRecall() {
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 100, 1.5, 20_261_130L);
    Map<String, float[]> distinct = new HashMap<>();
    List<ProductVector> products = new ArrayList<>();
    for (int i = 0; i < OWN_IMAGES; i++) {
      float[] v = vectors.next();
      products.add(new ProductVector("p" + i, v, null));
      distinct.put("p" + i, v);
    }
    float[] placeholder = new ClusteredUnitVectors(DIM, 1, 1.0, 99).next();
    distinct.put("placeholder", placeholder);
    List<ImageMember> members = new ArrayList<>();
    for (int i = 0; i < PLACEHOLDER_COPIES; i++) {
      members.add(new ImageMember("copy" + i, "placeholder", i, null, null));
    }

    double shared;
    try (ShardIndex index = ShardIndex.builder().dimension(DIM).build()) {
      index.bulkLoad(products);
      assertThat(index.bulkLoadImages(List.of(new ImageVector("placeholder", placeholder)), members, List.of()))
          .isEqualTo(1);
      assertThat(index.size()).as("nodes: one per distinct image").isEqualTo(OWN_IMAGES + 1);
      shared = meanRecall(index, distinct);
    }
    double copies; // the same catalogue with every copy a node of its own, as before
    try (ShardIndex index = ShardIndex.builder().dimension(DIM).build()) {
      List<ProductVector> all = new ArrayList<>(products);
      for (int i = 0; i < PLACEHOLDER_COPIES; i++) {
        all.add(new ProductVector("copy" + i, placeholder, null));
      }
      Collections.shuffle(all, new Random(5)); // placeholders arrive among the other products
      index.bulkLoad(all);
      copies = meanRecallIgnoringCopies(index, distinct);
    }
    System.out.printf(
        "recall@%d of the products with an image of their own: %.4f with one image node, %.4f with %d copies%n",
        K, shared, copies, PLACEHOLDER_COPIES);
    assertThat(shared).isGreaterThanOrEqualTo(0.99);
  }

  /** Mean recall@K of the first QUERIES own-image products against the exact top-K of the distinct vectors. */
  private static double meanRecall(ShardIndex index, Map<String, float[]> distinct) {
    double sum = 0;
    for (int q = 0; q < QUERIES; q++) {
      String id = "p" + q;
      Map<String, float[]> others = new HashMap<>(distinct);
      others.remove(id);
      sum += ExactNeighbours.recall(
          ExactNeighbours.topIds(distinct.get(id), others, K),
          index.search(distinct.get(id), K, SearchOptions.NONE.exclude(id)));
    }
    return sum / QUERIES;
  }

  /** As {@link #meanRecall}, reading each copy as the placeholder and counting it once. */
  private static double meanRecallIgnoringCopies(ShardIndex index, Map<String, float[]> distinct) {
    double sum = 0;
    for (int q = 0; q < QUERIES; q++) {
      String id = "p" + q;
      Map<String, float[]> others = new HashMap<>(distinct);
      others.remove(id);
      List<ScoredProduct> found = new ArrayList<>();
      boolean placeholderSeen = false;
      for (ScoredProduct hit : index.search(distinct.get(id), 2 * K, SearchOptions.NONE.exclude(id))) {
        boolean copy = hit.productId().startsWith("copy");
        if (copy && placeholderSeen) {
          continue;
        }
        placeholderSeen |= copy;
        found.add(copy ? new ScoredProduct("placeholder", hit.score()) : hit);
        if (found.size() == K) {
          break;
        }
      }
      sum += ExactNeighbours.recall(ExactNeighbours.topIds(distinct.get(id), others, K), found);
    }
    return sum / QUERIES;
  }

  @Test
  void membersAreNeverHitsAndNeverCountAsNodes() {
    try (ShardIndex index = ShardIndex.builder().dimension(2).build()) {
      index.upsertImage("img", TestVectors.unit(1, 0));
      for (int i = 0; i < 3; i++) {
        index.putMember(new ImageMember("m" + i, "img", i, "shoes", "http://img/placeholder.png"));
      }
      index.upsert("p", TestVectors.unit(1, 0.1f), "shoes");
      assertThat(index.size()).isEqualTo(2);
      assertThat(index.search(TestVectors.unit(1, 0), 10, SearchOptions.NONE))
          .extracting(ScoredProduct::productId).containsExactly("img", "p");
      index.refresh(); // the view's node count must not take the members in
      assertThat(index.size()).isEqualTo(2);
      assertThat(index.contains("m0")).as("members are not nodes").isFalse();
      assertThat(index.search(TestVectors.unit(1, 0), 10, SearchOptions.NONE.category("shoes")))
          .as("an image node has no category of its own").extracting(ScoredProduct::productId)
          .containsExactly("p");

      index.removeMember("m0", "img");
      index.removeMember("nobody", "img");
      assertThat(index.delete("img")).isTrue();
      index.refresh();
      assertThat(index.size()).isEqualTo(1);
      assertThat(index.search(TestVectors.unit(1, 0), 10, SearchOptions.NONE))
          .extracting(ScoredProduct::productId).containsExactly("p");
    }
  }
}
