package dev.similarity.index.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.index.ImageMember;
import dev.similarity.index.ProductImage;
import dev.similarity.index.ShardIndex;
import dev.similarity.index.snapshot.ShardSnapshot.SnapshotHit;
import dev.similarity.index.snapshot.ShardSnapshot.SnapshotProduct;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.apache.lucene.util.VectorUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A snapshot of a shard with shared images answers for every product that shows one: it finds the
 * product with its image's vector, names a shared image once (by its representative), and leaves
 * out the products that share the query product's image.
 */
class ShardSnapshotSharedImagesTest {

  private static final float[] PLACEHOLDER = {1f, 0f};
  private static final float[] NEAR = VectorUtil.l2normalize(new float[] {1f, 0.2f});
  private static final float[] FAR = VectorUtil.l2normalize(new float[] {0.2f, 1f});

  @TempDir Path folder;
  private SnapshotStore store;
  private ShardIndex index;
  private long checkpoint;

  @BeforeEach
  void open() {
    store = SnapshotStore.at(folder.toString());
    index = ShardIndex.builder().dimension(2).build();
    index.upsertImage("placeholder", PLACEHOLDER);
    share(new ImageMember("shirt-m", "placeholder", 1, "shirts", "http://img/none.png"));
    share(new ImageMember("shoe-9", "placeholder", 2, "shoes", "http://img/none.png?shoe"));
    share(new ImageMember("shirt-s", "placeholder", 3, "shirts", "http://img/none.png"));
    index.upsert("near", NEAR, "shirts", "http://img/near.png");
    index.upsert("far", FAR, "shoes", "http://img/far.png");
  }

  /** A member of the placeholder and its product document (one shard holds both here). */
  private void share(ImageMember member) {
    index.putMember(member);
    index.putProduct(new ProductImage(member.productId(), member.imageKey(), PLACEHOLDER, member.category(),
        member.imageUrl()));
  }

  private void unshare(String productId) {
    index.removeMember(productId, "placeholder");
    index.removeProduct(productId);
  }

  @AfterEach
  void close() {
    index.close();
  }

  private ShardSnapshot publishAndLoad() throws SnapshotCorruptException {
    ShardSnapshotWriter writer = new ShardSnapshotWriter(store, 0, 1, "test-model:1", 2,
        new RetentionPolicy(3, Duration.ZERO), Runnable::run, Clock.systemUTC());
    writer.capture(index, ++checkpoint);
    writer.publish(checkpoint);
    return ShardSnapshot.load(store, store.latest(0).orElseThrow());
  }

  @Test
  void everyProductIsFoundWithItsImagesVectorAndItsOwnCategoryAndUrl() throws Exception {
    try (ShardSnapshot snapshot = publishAndLoad()) {
      assertThat(snapshot.documentCount()).as("products, not Lucene documents").isEqualTo(5);
      assertThat(snapshot.manifest().documentCount()).as("Lucene documents: 3 nodes, 3 members, 3 products").isEqualTo(9);
      SnapshotProduct shoe = snapshot.product("shoe-9").orElseThrow();
      assertThat(shoe.vector()).containsExactly(PLACEHOLDER);
      assertThat(shoe.category()).isEqualTo("shoes");
      assertThat(shoe.imageUrl()).isEqualTo("http://img/none.png?shoe");
      assertThat(shoe.imageKey()).isEqualTo("placeholder");
      assertThat(snapshot.product("placeholder")).as("an image is not a product").isEmpty();
      assertThat(snapshot.products(0, 10)).extracting(SnapshotProduct::productId)
          .containsExactlyInAnyOrder("shirt-m", "shoe-9", "shirt-s", "near", "far");
    }
  }

  @Test
  void aSharedImageIsOneHitNamedByItsFirstMember() throws Exception {
    try (ShardSnapshot snapshot = publishAndLoad()) {
      assertThat(snapshot.search(NEAR, 10, null, "near", 10)).extracting(SnapshotHit::productId)
          .containsExactly("shirt-m", "far");
    }
  }

  @Test
  void productsSharingTheQueryProductsImageAreLeftOutWithIt() throws Exception {
    try (ShardSnapshot snapshot = publishAndLoad()) {
      assertThat(snapshot.search(PLACEHOLDER, 10, null, "shirt-s", 10)).extracting(SnapshotHit::productId)
          .containsExactly("near", "far");
    }
  }

  @Test
  void aCategoryFilterFindsASharedImageThroughAMemberOfThatCategory() throws Exception {
    try (ShardSnapshot snapshot = publishAndLoad()) {
      assertThat(snapshot.search(NEAR, 10, "shoes", null, 10))
          .extracting(SnapshotHit::productId, SnapshotHit::category)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("shoe-9", "shoes"),
              org.assertj.core.groups.Tuple.tuple("far", "shoes"));
      assertThat(snapshot.search(NEAR, 10, "hats", null, 10)).isEmpty();
    }
  }

  @Test
  void whenTheFirstMemberLeavesTheNextOneNamesTheImageAndTheLastTakesTheNodeAlong() throws Exception {
    unshare("shirt-m");
    try (ShardSnapshot snapshot = publishAndLoad()) {
      assertThat(snapshot.search(NEAR, 1, null, "near", 10)).extracting(SnapshotHit::productId)
          .containsExactly("shoe-9");
      assertThat(snapshot.product("shirt-m")).isEmpty();
    }
    unshare("shoe-9");
    unshare("shirt-s");
    index.delete("placeholder");
    try (ShardSnapshot snapshot = publishAndLoad()) {
      assertThat(snapshot.documentCount()).isEqualTo(2);
      assertThat(snapshot.search(PLACEHOLDER, 10, null, null, 10)).extracting(SnapshotHit::productId)
          .containsExactly("near", "far");
    }
  }
}
