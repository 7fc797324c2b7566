package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import dev.similarity.search.Http.Answer;
import dev.similarity.search.testing.EmbeddedCatalogue;
import dev.similarity.search.testing.ShardPublisher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Visual search: an uploaded image is embedded with the committed model and searched. */
class ImageSearchIT {

  private static final int PRODUCTS = 400;

  @TempDir static Path folder;
  private static FashionMnist images;
  private static Path modelDir;
  private static SearchService service;
  private static Http http;

  @BeforeAll
  static void publishEmbeddedCatalogue() {
    images = FashionMnist.load(FashionMnist.Split.TEST);
    modelDir = EmbeddingModelDescriptor.findCommitted(Path.of("")).orElseThrow(
        () -> new IllegalStateException("the committed model under models/ is missing"));
    SnapshotStore store = SnapshotStore.at(folder.resolve("store").toString());
    EmbeddedCatalogue.publish(store, modelDir, images, PRODUCTS, 2, i -> "https://img.test/fm" + i + ".png");
    service = SearchService.builder().store(store).modelDir(modelDir).port(0).build().start();
    http = new Http(service.baseUri());
  }

  @AfterAll
  static void stop() {
    if (service != null) {
      service.close();
    }
  }

  @Test
  void uploadedCatalogueImageFindsItsOwnProductFirstAndMostlyItsCategory() {
    int image = 17;
    Answer answer = http.post("api/similar/image?k=10", images.png(image), "image/png");

    assertThat(answer.status()).as(answer.body()).isEqualTo(200);
    JsonNode neighbours = answer.json().get("neighbours");
    assertThat(neighbours).hasSize(10);
    assertThat(neighbours.get(0).get("productId").asText()).isEqualTo("fm" + image);
    assertThat(neighbours.get(0).get("score").floatValue()).isGreaterThan(0.999f);
    String category = FashionMnist.categoryName(images.label(image));
    long sameCategory = 0;
    for (JsonNode n : neighbours) {
      sameCategory += n.get("category").asText().equals(category) ? 1 : 0;
    }
    // The committed model's precision@10 on Fashion-MNIST is well above a half.
    assertThat(sameCategory).isGreaterThanOrEqualTo(6);
    assertThat(answer.json().at("/query/modelId").asText()).isEqualTo(EmbeddingModelDescriptor.read(modelDir).qualifiedId());
  }

  @Test
  void imageOutsideTheCatalogueStillFindsItsCategory() {
    int image = PRODUCTS + 3; // not indexed
    Answer answer = http.post("api/similar/image?k=5&category=" + "Bag", images.png(image), "image/png");

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.json().get("neighbours")).hasSize(5)
        .allSatisfy(n -> assertThat(n.get("category").asText()).isEqualTo("Bag"));
  }

  @Test
  void bytesThatAreNoImageAre400NamingTheDecodingProblem() {
    Answer garbage = http.post("api/similar/image", "this is not a picture".getBytes(), "image/png");
    Answer empty = http.post("api/similar/image", new byte[0], "image/png");
    byte[] png = images.png(1);
    Answer truncated = http.post("api/similar/image", Arrays.copyOf(png, png.length / 2), "image/png");

    assertThat(garbage.status()).isEqualTo(400);
    assertThat(garbage.json().get("error").asText()).contains("cannot be embedded (unsupported_format)");
    assertThat(empty.status()).isEqualTo(400);
    assertThat(empty.json().get("error").asText()).contains("(empty)");
    assertThat(truncated.status()).isEqualTo(400);
    assertThat(truncated.json().get("error").asText()).contains("cannot be embedded");
  }

  @Test
  void snapshotsOfAModelThatIsNotLoadedAre503NamingBothModels() {
    SnapshotStore other = SnapshotStore.at(folder.resolve("other-model").toString());
    try (ShardPublisher publisher = new ShardPublisher(other, 1, "another-model@7", 128,
            new RetentionPolicy(2, Duration.ZERO))) {
      float[] v = new float[128];
      v[0] = 1;
      publisher.upsert("x", v, null, null);
      publisher.publish();
    }
    try (SearchService mismatched = SearchService.builder().store(other).modelDir(modelDir).port(0).build().start()) {
      Http client = new Http(mismatched.baseUri());
      Answer answer = client.post("api/similar/image", images.png(0), "image/png");

      assertThat(answer.status()).isEqualTo(503);
      assertThat(answer.json().get("error").asText()).contains("another-model@7")
          .contains(EmbeddingModelDescriptor.read(modelDir).qualifiedId());
      assertThat(client.get("api/health").json().at("/imageSearch/matchesSnapshots").asBoolean()).isFalse();
      assertThat(Http.metric(client.get("metrics").body(), "search_embedder_model_matches")).isEqualTo(0);
    }
  }
}
