package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import dev.similarity.index.tools.ClusteredUnitVectors;
import dev.similarity.search.Http.Answer;
import dev.similarity.search.testing.ShardPublisher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.lucene.util.VectorUtil;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service follows the job through a model switch: real snapshots written by the shard snapshot
 * writer for the committed model (128-d, {@code @1}), then a 2,048-d model it has no folder for,
 * then the committed network under another id ({@code @2}, a loaded model of {@code --models-dir}).
 * The view switches only when every shard's newest snapshot is of the new model, and never mixes.
 */
class ModelSwitchIT {

  private static final int PRODUCTS = 60;
  private static final String WIDE_MODEL = "wide-backbone@1";
  private static final int WIDE = 2_048;
  private static final int SHARDS = 2;

  @TempDir static Path folder;
  private static FashionMnist images;
  private static Path models;
  private static String v1;
  private static List<float[]> embedded;

  @BeforeAll
  static void twoModelFolders() throws IOException {
    images = FashionMnist.load(FashionMnist.Split.TEST);
    Path committed = EmbeddingModelDescriptor.findCommitted(Path.of("")).orElseThrow();
    models = folder.resolve("models");
    copy(committed, models.resolve("fm-v1"));
    copy(committed, models.resolve("fm-v2"));
    Path descriptor = models.resolve("fm-v2/model.json");
    Files.writeString(descriptor, Files.readString(descriptor).replaceFirst("\"version\" : \"1\"", "\"version\" : \"2\""));
    v1 = EmbeddingModelDescriptor.read(models.resolve("fm-v1")).qualifiedId();
    assertThat(EmbeddingModelDescriptor.read(models.resolve("fm-v2")).qualifiedId()).isEqualTo(v1.replace("@1", "@2"));
    try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(committed).build())) {
      List<byte[]> pngs = new ArrayList<>();
      for (int i = 0; i < PRODUCTS; i++) {
        pngs.add(images.png(i));
      }
      embedded = embedder.embedBatch(pngs).stream().map(EmbeddingResult::vector).toList();
    }
  }

  private static ShardPublisher publisher(SnapshotStore store, String modelId, int dimension, long after) {
    return new ShardPublisher(store, SHARDS, modelId, dimension, new RetentionPolicy(20, Duration.ZERO))
        .checkpointsAfter(after);
  }

  private static void addCatalogue(ShardPublisher publisher) {
    for (int i = 0; i < PRODUCTS; i++) {
      publisher.upsert("fm" + i, embedded.get(i), FashionMnist.categoryName(images.label(i)), null);
    }
  }

  /** Wide vectors for the same products, by id. */
  private static Map<String, float[]> addWideCatalogue(ShardPublisher publisher) {
    ClusteredUnitVectors generator = new ClusteredUnitVectors(WIDE, 8, 1.0, 11);
    Map<String, float[]> vectors = new LinkedHashMap<>();
    for (int i = 0; i < PRODUCTS; i++) {
      float[] v = generator.next();
      vectors.put("fm" + i, v);
      publisher.upsert("fm" + i, v, FashionMnist.categoryName(images.label(i)), null);
    }
    return vectors;
  }

  private static JsonNode shards(Http http) {
    Answer health = http.get("api/health");
    assertThat(health.status()).as(health.body()).isEqualTo(200);
    assertThat(health.json().get("status").asText()).isEqualTo("ok");
    return health.json().get("shards");
  }

  private static List<String> modelsServed(Http http) {
    List<String> out = new ArrayList<>();
    shards(http).forEach(s -> out.add(s.get("modelId").asText() + "/" + s.get("dimension").asInt()));
    return out;
  }


  @Test
  void theServiceSwitchesModelsOnlyWhenEveryShardHasTheNewOneAndEmbedsUploadsWithTheServedModel() {
    SnapshotStore store = SnapshotStore.at(folder.resolve("switch").toString());
    try (ShardPublisher first = publisher(store, v1, 128, 0);
        ShardPublisher wide = publisher(store, WIDE_MODEL, WIDE, 1);
        ShardPublisher second = publisher(store, v1.replace("@1", "@2"), 128, 3)) {
      addCatalogue(first);
      first.publish();                                                  // checkpoint 1, both shards
      try (SearchService service = SearchService.builder().store(store).modelsDir(models).port(0)
          .pollInterval(Duration.ofHours(1)).build().start()) {
        Http http = new Http(service.baseUri());
        byte[] photo = images.png(5);
        Answer upload = http.post("api/similar/image?k=3", photo, "image/png");
        assertThat(upload.status()).as(upload.body()).isEqualTo(200);
        assertThat(upload.json().at("/query/modelId").asText()).isEqualTo(v1);
        assertThat(upload.json().at("/neighbours/0/productId").asText()).isEqualTo("fm5");
        List<String> similarBefore = Http.ids(http.get("api/similar?product=fm5&k=5").json());

        // A client searches all along: every answer comes from one model's complete set of snapshots.
        java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicBoolean searching = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread client = new Thread(() -> {
          while (searching.get()) {
            Answer a = http.get("api/similar?product=fm5&k=5");
            seen.add(a.status() + " " + (a.status() == 200 ? a.json().get("snapshots").toString() : a.body()));
          }
        }, "model-switch-client");
        client.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (seen.isEmpty() && System.nanoTime() < deadline) {
          Thread.onSpinWait();
        }

        // The job switches to the wide model: shard 0 first.
        Map<String, float[]> wideVectors = addWideCatalogue(wide);
        wide.publish(0);                                                // checkpoint 2, shard 0 only
        service.pollNow();

        assertThat(modelsServed(http)).containsExactly(v1 + "/128", v1 + "/128");
        assertThat(service.servedCheckpoints()).containsEntry(0, 1L).containsEntry(1, 1L);
        JsonNode switching = http.get("api/health").json().get("modelSwitch");
        assertThat(switching.get("modelId").asText()).isEqualTo(WIDE_MODEL);
        assertThat(switching.get("shardsReady").toString()).isEqualTo("[0]");
        assertThat(switching.get("shardCount").asInt()).isEqualTo(SHARDS);
        assertThat(switching.get("imageSearchReady").asBoolean()).isFalse();
        assertThat(Http.ids(http.get("api/similar?product=fm5&k=5").json())).isEqualTo(similarBefore);
        assertThat(http.post("api/similar/image?k=3", photo, "image/png").json().at("/query/modelId").asText())
            .isEqualTo(v1);

        wide.publish(1);                                                // checkpoint 3, shard 1: complete
        service.pollNow();

        assertThat(modelsServed(http)).containsExactly(WIDE_MODEL + "/" + WIDE, WIDE_MODEL + "/" + WIDE);
        assertThat(service.servedCheckpoints()).containsEntry(0, 2L).containsEntry(1, 3L);
        assertThat(http.get("api/health").json().has("modelSwitch")).isFalse();
        float[] query = wideVectors.get("fm5");
        List<String> exact = wideVectors.keySet().stream().filter(id -> !id.equals("fm5"))
            .sorted(java.util.Comparator.comparingDouble((String id) -> -VectorUtil.dotProduct(query,
                wideVectors.get(id))).thenComparing(id -> id))
            .limit(5).toList();
        assertThat(Http.ids(http.get("api/similar?product=fm5&k=5").json())).isEqualTo(exact);
        // No loaded model made these snapshots: a clear 503 naming it and what is loaded.
        Answer refused = http.post("api/similar/image", photo, "image/png");
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.json().get("error").asText()).contains(WIDE_MODEL).contains("2048-dimensional")
            .contains(v1 + " (128 dimensions)").contains("--models-dir");
        assertThat(http.get("api/health").json().at("/imageSearch/matchesSnapshots").asBoolean()).isFalse();

        // Then to a model the service has loaded (128-d again, another id): uploads follow it.
        addCatalogue(second);
        second.publish();                                               // checkpoint 4, both shards
        service.pollNow();

        assertThat(modelsServed(http)).containsExactly(v1.replace("@1", "@2") + "/128",
            v1.replace("@1", "@2") + "/128");
        Answer followed = http.post("api/similar/image?k=3", photo, "image/png");
        assertThat(followed.status()).as(followed.body()).isEqualTo(200);
        assertThat(followed.json().at("/query/modelId").asText()).isEqualTo(v1.replace("@1", "@2"));
        assertThat(followed.json().at("/neighbours/0/productId").asText()).isEqualTo("fm5");
        assertThat(http.get("api/health").json().at("/imageSearch/matchesSnapshots").asBoolean()).isTrue();
        searching.set(false);
        try {
          client.join(10_000);
        } catch (InterruptedException e) {
          throw new AssertionError(e);
        }
        // Checkpoint 1 (first model), 2 + 3 (wide), 4 (second): never shard 0 of one model with shard 1 of another.
        assertThat(seen).contains("200 {\"0\":1,\"1\":1}").isSubsetOf("200 {\"0\":1,\"1\":1}", "200 {\"0\":2,\"1\":3}", "200 {\"0\":4,\"1\":4}");
      }
    }
  }

  @Test
  void aServiceStartedDuringASwitchServesTheCompleteOldModel() {
    SnapshotStore store = SnapshotStore.at(folder.resolve("start-during").toString());
    try (ShardPublisher first = publisher(store, v1, 128, 0);
        ShardPublisher wide = publisher(store, WIDE_MODEL, WIDE, 1)) {
      addCatalogue(first);
      first.publish();                                                  // checkpoint 1
      addWideCatalogue(wide);
      wide.publish(1);                                                  // checkpoint 2, shard 1 only
      try (SearchService service = SearchService.builder().store(store).modelDir(models.resolve("fm-v1")).port(0)
          .pollInterval(Duration.ofHours(1)).build().start()) {
        Http http = new Http(service.baseUri());

        assertThat(modelsServed(http)).containsExactly(v1 + "/128", v1 + "/128");
        assertThat(http.post("api/similar/image?k=1", images.png(7), "image/png").json()
            .at("/neighbours/0/productId").asText()).isEqualTo("fm7");

        wide.publish(0);                                                // checkpoint 3: complete
        service.pollNow();

        assertThat(modelsServed(http)).containsExactly(WIDE_MODEL + "/" + WIDE, WIDE_MODEL + "/" + WIDE);
      }
    }
  }

  private static void copy(Path from, Path to) {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path source : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
