package dev.similarity.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.similarity.index.tools.ClusteredUnitVectors;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A bulk load fed in parts leaves the index as one bulk load does, and nothing sees it half done. */
class ShardIndexBulkLoadInPartsTest {

  private static final int DIM = 32;

  @Test
  void nodesWrittenInPartsBecomeSearchableTogetherWhenTheBulkLoadEnds() {
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 10, 1.5, 7L);
    List<ImageVector> images = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      images.add(new ImageVector("i" + i, vectors.next()));
    }
    try (ShardIndex parts = ShardIndex.builder().dimension(DIM).build();
        ShardIndex whole = ShardIndex.builder().dimension(DIM).build()) {
      parts.upsertImage("before", vectors.next());
      parts.refresh();
      whole.bulkLoadImages(images, List.of(), List.of());

      assertThat(parts.bulkAddImages(images.subList(0, 1_000))).isEqualTo(1_000);
      assertThat(parts.size()).as("the index as it was until the end").isEqualTo(1);
      assertThat(parts.bulkAddImages(images.subList(1_000, 3_000))).isEqualTo(2_000);
      assertThat(parts.endBulkLoad()).isEqualTo(3_000);

      assertThat(parts.size()).isEqualTo(3_001);
      assertThat(parts.segmentCount()).as("one RAM buffer: one segment").isLessThanOrEqualTo(2);
      for (int q = 0; q < 50; q++) {
        float[] query = images.get(q * 37).vector();
        List<ScoredProduct> got = parts.search(query, 10, SearchOptions.NONE.exclude("before"));
        List<ScoredProduct> expected = whole.search(query, 10, SearchOptions.NONE);
        assertThat(got.get(0).productId()).isEqualTo(images.get(q * 37).imageKey());
        assertThat(got.get(9).score()).isCloseTo(expected.get(9).score(), org.assertj.core.data.Offset.offset(0.02f));
      }
      assertThat(parts.endBulkLoad()).as("none open").isZero();
    }
  }

  @Test
  void membersAndProductsWrittenInPartsCommitAsOneBulkLoadDoes() {
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 10, 1.5, 11L);
    List<ImageVector> images = new ArrayList<>();
    List<ImageMember> members = new ArrayList<>();
    List<ProductImage> products = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      ImageVector image = new ImageVector("i" + i, vectors.next());
      images.add(image);
      members.add(new ImageMember("p" + i, image.imageKey(), i, "shoes", "http://img/" + i + ".png"));
      products.add(new ProductImage("p" + i, image.imageKey(), image.vector(), "shoes", "http://img/" + i + ".png"));
    }
    try (ShardIndex parts = ShardIndex.builder().dimension(DIM).build();
        ShardIndex whole = ShardIndex.builder().dimension(DIM).build()) {
      whole.bulkLoadImages(images, members, products);
      assertThat(parts.bulkAddImages(images)).isEqualTo(300);
      assertThat(parts.bulkAddMembers(members.subList(0, 100))).isEqualTo(100);
      assertThat(parts.bulkAddMembers(members.subList(100, 300))).isEqualTo(200);
      assertThat(parts.bulkAddProducts(products)).isEqualTo(300);
      assertThatThrownBy(() -> parts.putMember(members.get(0)))
          .as("a bulk load in parts is open").isInstanceOf(IllegalStateException.class);
      parts.endBulkLoad();

      assertThat(parts.size()).as("members and products are not nodes").isEqualTo(300);
      assertThat(parts.commit(java.util.Map.of()).documentCount())
          .as("nodes, members and products, as one bulk load writes them")
          .isEqualTo(whole.commit(java.util.Map.of()).documentCount())
          .isEqualTo(900);
    }
  }

  @Test
  void searchesWritesAndRefreshesAreRefusedWhileABulkLoadIsOpen() {
    try (ShardIndex index = ShardIndex.builder().dimension(DIM).build()) {
      float[] v = TestVectors.axis(DIM, 0);
      index.bulkAddImages(List.of(new ImageVector("a", v)));
      assertThatThrownBy(() -> index.search(v, 1, SearchOptions.NONE))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("endBulkLoad()");
      assertThatThrownBy(() -> index.upsertImage("b", v)).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(index::refresh).isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(index::maybeRefresh).isInstanceOf(IllegalStateException.class);
      index.endBulkLoad();
      assertThat(index.search(v, 1, SearchOptions.NONE).get(0).productId()).isEqualTo("a");
    }
  }
}
