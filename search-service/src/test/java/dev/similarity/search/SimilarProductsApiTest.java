package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.similarity.index.ImageMember;
import dev.similarity.search.Http.Answer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The query endpoints against a store published from real shard indices. */
class SimilarProductsApiTest {

  private static final int PRODUCTS = 2_000;
  private static final int SHARDS = 4;
  private static final int DIM = 32;

  @TempDir static Path folder;
  private static TestCatalogue catalogue;
  private static SearchService service;
  private static Http http;

  @BeforeAll
  static void start() {
    catalogue = new TestCatalogue(folder, SHARDS, DIM).addProducts(PRODUCTS, i -> "https://img.test/p" + i + ".png");
    catalogue.publisher.publish();
    service = SearchService.builder().store(catalogue.store).port(0).build().start();
    http = new Http(service.baseUri());
  }

  @AfterAll
  static void stop() {
    service.close();
    catalogue.close();
  }


  @Test
  void similarProductsAreTheExactNeighboursBestFirstWithoutTheProductItself() {
    int found = 0;
    int expected = 0;
    for (String id : List.of("p3", "p77", "p512", "p1024", "p1999")) {
      JsonNode answer = http.get("api/similar?product=" + id + "&k=10").json();
      List<String> ids = Http.ids(answer);
      List<String> exact = catalogue.exactTop(catalogue.vectors.get(id), 10, null, id);

      assertThat(ids).hasSize(10).doesNotContain(id).doesNotHaveDuplicates();
      JsonNode neighbours = answer.get("neighbours");
      for (int rank = 0; rank < neighbours.size(); rank++) {
        JsonNode n = neighbours.get(rank);
        assertThat(n.get("rank").asInt()).isEqualTo(rank + 1);
        // Scores are the true cosines of the stored vectors, best first.
        assertThat(n.get("score").floatValue())
            .isCloseTo(catalogue.cosine(catalogue.vectors.get(id), n.get("productId").asText()),
                org.assertj.core.data.Offset.offset(1e-4f));
        if (rank > 0) {
          assertThat(n.get("score").floatValue()).isLessThanOrEqualTo(neighbours.get(rank - 1).get("score").floatValue());
        }
        assertThat(n.get("category").asText()).isEqualTo(catalogue.categories.get(n.get("productId").asText()));
        assertThat(n.get("imageUrl").asText()).isEqualTo("https://img.test/" + n.get("productId").asText() + ".png");
      }
      assertThat(answer.at("/query/productId").asText()).isEqualTo(id);
      assertThat(answer.at("/query/imageUrl").asText()).isEqualTo("https://img.test/" + id + ".png");
      assertThat(answer.get("snapshots").size()).isEqualTo(SHARDS);
      assertThat(answer.get("tookMs").asDouble()).isPositive();
      Set<String> hit = new HashSet<>(ids);
      hit.retainAll(exact);
      found += hit.size();
      expected += exact.size();
    }
    // HNSW is approximate; over 500 products per shard with 100 candidates it misses almost nothing.
    assertThat(found / (double) expected).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void aProductSharingItsPictureIsFoundInItsImagesShardAndItsTwinsAreNotItsNeighbours(@TempDir Path own) {
    try (TestCatalogue shared = new TestCatalogue(own, SHARDS, DIM).addProducts(200, i -> "https://img.test/p" + i + ".png")) {
      float[] placeholder = shared.vectors.get("p0");
      List<ImageMember> members = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        members.add(new ImageMember("sku-" + i, "img-placeholder", i, "c1", "https://img.test/none.png"));
      }
      shared.publisher.shareImage("img-placeholder", placeholder, members);
      shared.publisher.publish();
      try (SearchService ownService = SearchService.builder().store(shared.store).port(0).build().start()) {
        Http ownHttp = new Http(ownService.baseUri());
        JsonNode twin = ownHttp.get("api/similar?product=sku-17&k=10").json();
        assertThat(twin.at("/query/imageUrl").asText()).isEqualTo("https://img.test/none.png");
        assertThat(Http.ids(twin)).hasSize(10).first().isEqualTo("p0");
        assertThat(Http.ids(twin)).noneMatch(id -> id.startsWith("sku-"));

        JsonNode near = ownHttp.get("api/similar?product=p0&k=10").json();
        assertThat(Http.ids(near)).as("the shared picture is one neighbour, named by its first product")
            .startsWith("sku-0").filteredOn(id -> id.startsWith("sku-")).hasSize(1);
        assertThat(ownHttp.get("api/health").json().get("documents").asInt()).isEqualTo(230);
      }
    }
  }

  @Test
  void neighboursComeFromEveryShard() {
    Set<Integer> shards = new HashSet<>();
    for (int i = 0; i < 40 && shards.size() < SHARDS; i++) {
      for (String id : Http.ids(http.get("api/similar?product=p" + i + "&k=50").json())) {
        shards.add(catalogue.publisher.shardOf(id));
      }
    }
    assertThat(shards).hasSize(SHARDS);
  }

  @Test
  void categoryFilterReturnsOnlyProductsOfThatCategory() {
    JsonNode answer = http.get("api/similar?product=p10&k=20&category=c3").json();

    assertThat(answer.get("neighbours")).hasSize(20)
        .allSatisfy(n -> assertThat(n.get("category").asText()).isEqualTo("c3"));
    List<String> exact = catalogue.exactTop(catalogue.vectors.get("p10"), 20, "c3", "p10");
    Set<String> hit = new HashSet<>(Http.ids(answer));
    hit.retainAll(exact);
    assertThat(hit.size()).isGreaterThanOrEqualTo(18);
  }

  @Test
  void unknownProductIs404NamingTheId() {
    Answer answer = http.get("api/similar?product=no-such-sku&k=5");

    assertThat(answer.status()).isEqualTo(404);
    assertThat(answer.json().get("error").asText()).contains("'no-such-sku'").contains("not in the index");
  }

  @Test
  void kOutsideOneToAThousandIs400NamingKAndTheRange() {
    for (String k : List.of("0", "1001", "-3", "ten")) {
      Answer answer = http.get("api/similar?product=p1&k=" + k);
      assertThat(answer.status()).as("k=%s", k).isEqualTo(400);
      assertThat(answer.json().get("error").asText()).contains("k is").contains(k).contains("1..1000");
    }
    assertThat(http.get("api/similar?product=p1&k=1000").json().get("neighbours")).hasSize(1000);
  }

  @Test
  void missingProductParameterIs400SayingWhatToSend() {
    Answer answer = http.get("api/similar?k=5");

    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.json().get("error").asText()).contains("product is required");
  }

  @Test
  void vectorQueryIsNormalisedSoAScaledVectorFindsItsProductFirst() {
    float[] v = catalogue.vectors.get("p42");
    StringBuilder json = new StringBuilder("{\"k\":5,\"vector\":[");
    for (int i = 0; i < v.length; i++) {
      json.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.8f", v[i] * 3.5f));
    }
    json.append("]}");
    JsonNode answer = http.postJson("api/similar/vector", json.toString()).json();

    assertThat(Http.ids(answer)).hasSize(5).first().isEqualTo("p42");
    assertThat(answer.at("/neighbours/0/score").floatValue()).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-4f));
    assertThat(Http.ids(answer).subList(1, 5))
        .containsExactlyElementsOf(Http.ids(http.get("api/similar?product=p42&k=4").json()));
  }

  @Test
  void vectorOfTheWrongLengthIs400NamingBothLengths() {
    Answer answer = http.postJson("api/similar/vector", "{\"vector\":[0.6,0.8]}");

    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.json().get("error").asText()).contains("2 components").contains(DIM + "-dimensional");
  }

  @Test
  void vectorThatIsNotFiniteOrZeroIs400() {
    String zeros = "0" + ",0".repeat(DIM - 1);
    Answer overflow = http.postJson("api/similar/vector", "{\"vector\":[1e39" + ",0".repeat(DIM - 1) + "]}");
    Answer zero = http.postJson("api/similar/vector", "{\"vector\":[" + zeros + "]}");
    Answer text = http.postJson("api/similar/vector", "{\"vector\":[\"a\"" + ",0".repeat(DIM - 1) + "]}");

    assertThat(overflow.status()).isEqualTo(400);
    assertThat(overflow.json().get("error").asText()).contains("vector[0]").contains("not a finite float");
    assertThat(zero.status()).isEqualTo(400);
    assertThat(zero.json().get("error").asText()).contains("L2 norm 0");
    assertThat(text.status()).isEqualTo(400);
    assertThat(text.json().get("error").asText()).contains("vector[0]").contains("must be a number");
  }

  @Test
  void bodyThatIsNotJsonIs400SayingWhatToSend() {
    Answer answer = http.postJson("api/similar/vector", "{\"vector\": [1, 2");

    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.json().get("error").asText()).contains("not JSON").contains("\"vector\"");
  }

  @Test
  void productsPagesThroughEveryProductExactlyOnce() {
    Set<String> seen = new HashSet<>();
    int from = 0;
    while (true) {
      JsonNode page = http.get("api/products?from=" + from + "&count=300").json();
      assertThat(page.get("total").asInt()).isEqualTo(PRODUCTS);
      if (page.get("products").isEmpty()) {
        break;
      }
      for (JsonNode p : page.get("products")) {
        assertThat(seen.add(p.get("productId").asText())).as("listed twice: %s", p).isTrue();
        assertThat(p.get("imageUrl").asText()).startsWith("https://img.test/");
        assertThat(p.get("shard").asInt()).isEqualTo(catalogue.publisher.shardOf(p.get("productId").asText()));
      }
      from += page.get("products").size();
    }
    assertThat(seen).containsExactlyInAnyOrderElementsOf(catalogue.ids);
  }

  @Test
  void wrongMethodIs405WithTheAllowedOne() {
    Answer answer = http.post("api/similar?product=p1", new byte[0], "text/plain");

    assertThat(answer.status()).isEqualTo(405);
    assertThat(answer.header("Allow")).isEqualTo("GET");
    assertThat(answer.json().get("error").asText()).contains("POST is not allowed").contains("use GET");
  }

  @Test
  void unknownPathIs404ListingTheEndpoints() {
    Answer answer = http.get("api/similer?product=p1");

    assertThat(answer.status()).isEqualTo(404);
    assertThat(answer.json().get("error").asText()).contains("/api/similer").contains("/api/similar");
  }

  @Test
  void imageSearchWithoutAModelIs503SayingHowToTurnItOn() {
    Answer answer = http.post("api/similar/image?k=3", new byte[] {1, 2, 3}, "image/png");

    assertThat(answer.status()).isEqualTo(503);
    assertThat(answer.json().get("error").asText()).contains("--model-dir");
  }

  @Test
  void browsePageIsServedAsHtml() {
    Answer answer = http.get("");

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.header("Content-Type")).startsWith("text/html");
    assertThat(answer.body()).contains("<title>Visually similar products</title>").contains("/api/similar");
  }
}
