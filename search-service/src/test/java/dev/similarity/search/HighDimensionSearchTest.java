package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.similarity.search.Http.Answer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots of 2,048-dimensional embeddings (the pooled features of ResNet-50 or Inception-V3,
 * above Lucene's default limit of 1,024) published from real shard indices, loaded and searched.
 */
class HighDimensionSearchTest {

  private static final int DIM = 2_048;

  @TempDir static Path folder;
  private static TestCatalogue catalogue;
  private static SearchService service;
  private static Http http;

  @BeforeAll
  static void start() {
    catalogue = new TestCatalogue(folder, 2, DIM).addProducts(300, i -> "https://img.test/p" + i + ".png");
    catalogue.publisher.publish();
    service = SearchService.builder().store(catalogue.store).port(0).build().start();
    http = new Http(service.baseUri());
  }

  @AfterAll
  static void stop() {
    service.close();
    catalogue.close();
  }

  private static List<String> ids(JsonNode answer) {
    List<String> ids = new ArrayList<>();
    answer.get("neighbours").forEach(n -> ids.add(n.get("productId").asText()));
    return ids;
  }

  @Test
  void vectorSearchOf2048DimensionsFindsTheProductFirst() {
    float[] v = catalogue.vectors.get("p42");
    StringBuilder json = new StringBuilder("{\"k\":5,\"vector\":[");
    for (int i = 0; i < v.length; i++) {
      json.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.8f", v[i]));
    }
    json.append("]}");
    Answer answer = http.postJson("api/similar/vector", json.toString());

    assertThat(answer.status()).isEqualTo(200);
    assertThat(ids(answer.json())).hasSize(5).first().isEqualTo("p42");
    assertThat(answer.json().at("/neighbours/0/score").floatValue())
        .isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-4f));
  }

  @Test
  void similarProductsOf2048DimensionsAreTheExactNeighbours() {
    JsonNode answer = http.get("api/similar?product=p7&k=5").json();

    assertThat(ids(answer)).containsExactlyElementsOf(catalogue.exactTop(catalogue.vectors.get("p7"), 5, null, "p7"));
  }

  @Test
  void vectorOfAnotherLengthIs400Naming2048() {
    Answer answer = http.postJson("api/similar/vector", "{\"vector\":[0.6,0.8]}");

    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.json().get("error").asText()).contains("2 components").contains("2048-dimensional");
  }
}
