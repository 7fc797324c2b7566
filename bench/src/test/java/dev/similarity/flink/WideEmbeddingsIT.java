package dev.similarity.flink;

import dev.similarity.embedding.testing.ChildCommands;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.EmbeddingModelDescriptor.Normalisation;
import dev.similarity.embedding.Resampling;
import dev.similarity.embedding.ResizePolicy;
import dev.similarity.embedding.keras.KerasImporter;
import dev.similarity.flink.demo.CatalogueChurn;
import dev.similarity.flink.demo.DemoCatalogue;
import dev.similarity.flink.demo.DemoImageServer;
import dev.similarity.flink.demo.DemoRun;
import dev.similarity.flink.demo.ListContract;
import dev.similarity.flink.demo.RunSummary;
import dev.similarity.flink.index.ImageKeys;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.kafka.local.LocalKafkaBroker;
import dev.similarity.search.SearchService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * 2,048-dimensional embeddings through the whole path: nsfwjs' Inception-V3 converted by the Keras
 * importer (its pooled features, above Lucene's default limit of 1,024 dimensions) serving the job on
 * a Flink mini-cluster with a real broker; every product's list against the exact top-k over the
 * job's own vectors (read back from its snapshots); the snapshots hold 2,048-d unit vectors of that
 * model; the search service loads them and answers "similar to a product" and "similar to a vector".
 *
 * <p>The model is converted as {@code scripts/import-keras-model} does, into the same cache
 * ({@code ${VSI_HOME:-work}/models/inception-v3-nsfwjs}), and reused from there, or from
 * KerasImportIT's output ({@code training/target/keras-import}), when its SavedModel has the SHA-256
 * recorded in {@code scripts/keras/expected-models.json}. Converting needs Node.js and
 * npm (the npm registry on a cold cache): their absence fails with a message.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WideEmbeddingsIT {

    private static final String MODEL = "inception-v3-nsfwjs";
    private static final int DIMENSION = 2_048;
    // Inception-V3 on CPU costs about a second per image on a loaded 2-core machine: a small catalogue.
    private static final int PRODUCTS = 30;
    private static final int K = 5;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path work;

    private LocalKafkaBroker broker;
    private DemoCatalogue catalogue;
    private DemoImageServer images;
    private DemoRun run;
    private RunSummary summary;
    private String snapshots;
    /** The job's own vectors, as published in its snapshots: product id -> vector, image key. */
    private final Map<String, float[]> jobVectors = new TreeMap<>();
    private final Map<String, String> imageKeys = new HashMap<>();
    private final List<SnapshotManifest> manifests = new ArrayList<>();

    @BeforeAll
    void runTheJobOnInceptionV3() throws Exception {
        long startedAt = System.nanoTime();
        Path modelDir = convertedInceptionV3();
        System.out.printf(Locale.ROOT, "model %s ready in %.1f s%n", modelDir, (System.nanoTime() - startedAt) / 1e9);
        broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build().start();
        catalogue = new DemoCatalogue();
        images = new DemoImageServer(catalogue, 0);
        Map<String, String> settings = Map.of(
                IndexerOptions.MODEL_DIR.key(), modelDir.toString(),
                IndexerOptions.NEIGHBOURS_K.key(), Integer.toString(K),
                IndexerOptions.SNAPSHOT_INTERVAL.key(), "1 s",
                // One model in memory and small batches: each Inception batch stays well within its time budget.
                IndexerOptions.PARALLELISM.key(), "1",
                IndexerOptions.BATCH_SIZE.key(), "4",
                IndexerOptions.EMBED_TIMEOUT.key(), "5 min");
        run = new DemoRun(catalogue, images, broker.bootstrapServers(), work.resolve("job"), "wide", -1, settings);
        CatalogueChurn products = new CatalogueChurn(run, catalogue, images);
        summary = products.load(PRODUCTS, 240_000);
        assertThat(summary.get("products_with_list")).as("products with a list after the load (the job's log says why not): %s",
                summary.values()).isEqualTo(PRODUCTS);
        products.awaitQuiet(5_000, 60_000); // the reverse updates of the last products are committed too
        Map<String, Object> report = products.checkSnapshots(90_000);
        System.out.println("snapshots: " + report);
        assertThat(report).containsEntry("snapshot_products", (long) PRODUCTS).containsEntry("snapshot_shards_missing", 0L);
        snapshots = run.config().snapshotDir();
        readSnapshots();
        System.out.printf(Locale.ROOT, "job on %s: %d products listed in %.1f s since the start%n", MODEL, PRODUCTS,
                (System.nanoTime() - startedAt) / 1e9);
    }

    @AfterAll
    void stop() throws Exception {
        if (run != null) run.close();
        if (images != null) images.close();
        if (broker != null) broker.close();
    }

    @Test
    void everyProductGetsAListOfKThatIsTheExactTopKOfTheJobsOwn2048DimensionalVectors() {
        assertThat(summary.get("products_with_list")).isEqualTo(PRODUCTS);
        assertThat(run.deadLetters().records()).as("dead letters").isZero();
        Map<String, ListContract.Product> live = new HashMap<>();
        Map<String, float[]> byImage = new HashMap<>();
        jobVectors.forEach((id, vector) -> {
            live.put(id, new ListContract.Product(imageKeys.get(id), 1));
            byImage.putIfAbsent(imageKeys.get(id), vector);
        });
        Map<String, Object> contract = ListContract.check(live, byImage, Set.of(), run.lists().latest(), K,
                run.config().get(IndexerOptions.IDENTICAL_IMAGES), 0, 42);
        System.out.println("contract at " + DIMENSION + " dimensions: " + contract);
        assertThat(contract.get("live_products")).isEqualTo(PRODUCTS);
        assertThat(contract.get("lists_of_wrong_size")).as(contract.toString()).isEqualTo(0L);
        assertThat(contract.get("missing_lists")).as(contract.toString()).isEqualTo(0L);
        assertThat((Double) contract.get("mean_overlap")).as(contract.toString()).isGreaterThanOrEqualTo(0.95);
        assertThat(run.lists().repeatedUpdates()).as("list updates committed more than once").isEmpty();
    }

    @Test
    void theSnapshotsHold2048DimensionalUnitVectorsOfTheModelForEveryProduct() {
        assertThat(manifests).isNotEmpty().allSatisfy(m -> {
            assertThat(m.dimension()).isEqualTo(DIMENSION);
            assertThat(m.modelId()).startsWith(MODEL);
        });
        assertThat(jobVectors).hasSize(PRODUCTS);
        jobVectors.forEach((id, vector) -> {
            assertThat(vector).as(id).hasSize(DIMENSION);
            double squares = 0;
            for (float x : vector) squares += (double) x * x;
            assertThat(Math.sqrt(squares)).as("norm of %s", id).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
        });
        // Not a degenerate embedding: the catalogue's products are told apart.
        assertThat(jobVectors.values().stream().map(java.util.Arrays::hashCode).distinct().count()).isGreaterThan(PRODUCTS / 2);
    }

    @Test
    void theSearchServiceServesTheSnapshotsAt2048DimensionsByProductAndByVector() throws Exception {
        try (SearchService service = SearchService.builder().store(snapshots).port(0).localDir(work.resolve("search"))
                .pollInterval(Duration.ofHours(1)).build().start()) {
            Answer health = get(service, "api/health");
            assertThat(health.status).as(health.body).isEqualTo(200);
            assertThat(health.json.get("status").asText()).as(health.body).isEqualTo("ok");
            assertThat(health.json.get("documents").asInt()).as(health.body).isEqualTo(PRODUCTS);

            List<String> ids = new ArrayList<>(jobVectors.keySet());
            float[][] all = ids.stream().map(jobVectors::get).toArray(float[][]::new);
            double overlap = 0;
            for (int q = 0; q < ids.size(); q++) {
                Answer answer = get(service, "api/similar?product=" + ids.get(q) + "&k=" + K);
                assertThat(answer.status).as(answer.body).isEqualTo(200);
                List<String> served = productIds(answer.json);
                assertThat(served).hasSize(K).doesNotContain(ids.get(q));
                overlap += overlap(served, ids, CatalogueChurn.exactTopK(all, q, K));
            }
            double mean = overlap / ids.size();
            System.out.printf(Locale.ROOT, "search service by product at %d dimensions: mean overlap with the exact top-%d %.4f%n",
                    DIMENSION, K, mean);
            assertThat(mean).isGreaterThanOrEqualTo(0.95);

            // A 2,048-d query vector (a product's own, scaled: the service normalises it) finds that product first.
            String query = ids.get(7);
            StringBuilder body = new StringBuilder("{\"k\":" + (K + 1) + ",\"vector\":[");
            float[] vector = jobVectors.get(query);
            for (int i = 0; i < vector.length; i++) {
                body.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.8g", 3 * vector[i]));
            }
            body.append("]}");
            Answer answer = post(service, "api/similar/vector", body.toString());
            assertThat(answer.status).as(answer.body).isEqualTo(200);
            List<String> served = productIds(answer.json);
            assertThat(served).hasSize(K + 1).first().isEqualTo(query);
            assertThat(answer.json.at("/neighbours/0/score").doubleValue()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
            int q = ids.indexOf(query);
            assertThat(served.subList(1, K + 1)).containsExactlyInAnyOrderElementsOf(
                    java.util.Arrays.stream(CatalogueChurn.exactTopK(all, q, K)).mapToObj(ids::get).toList());

            Answer wrongLength = post(service, "api/similar/vector", "{\"vector\":[0.6,0.8]}");
            assertThat(wrongLength.status).isEqualTo(400);
            assertThat(wrongLength.json.get("error").asText()).contains("2048-dimensional");
        }
    }

    /** Every shard's newest snapshot: its manifest, and each product's vector and image key. */
    private void readSnapshots() throws Exception {
        SnapshotStore store = SnapshotStore.at(snapshots);
        for (int shard : store.shards()) {
            SnapshotManifest manifest = store.latest(shard).orElseThrow();
            manifests.add(manifest);
            try (ShardSnapshot snapshot = ShardSnapshot.load(store, manifest)) {
                for (ShardSnapshot.SnapshotProduct product : snapshot.products(0, Integer.MAX_VALUE)) {
                    jobVectors.put(product.productId(), product.vector());
                }
            }
        }
        for (int n = 0; n < PRODUCTS; n++) {
            imageKeys.put(catalogue.productId(n), ImageKeys.ofBytes(catalogue.png(n)));
        }
    }

    private static double overlap(List<String> served, List<String> ids, int[] exact) {
        int hits = 0;
        for (int i : exact) {
            if (served.contains(ids.get(i))) hits++;
        }
        return hits / (double) exact.length;
    }

    private static List<String> productIds(JsonNode answer) {
        List<String> ids = new ArrayList<>();
        answer.get("neighbours").forEach(nb -> ids.add(nb.get("productId").asText()));
        return ids;
    }

    /**
     * The converted Inception-V3: from the cache when its SavedModel has the recorded SHA-256, else
     * fetched (pinned npm nsfwjs, as KerasImportIT does) and converted into the cache.
     */
    private static Path convertedInceptionV3() throws Exception {
        Path root = ChildCommands.projectRoot();
        Path state = Path.of(System.getenv().getOrDefault("VSI_HOME", root.resolve("work").toString()));
        Path modelDir = state.resolve("models").resolve(MODEL); // where scripts/import-keras-model puts it
        Map<String, String> expected = new TreeMap<>();
        JSON.readTree(root.resolve("scripts/keras/expected-models.json").toFile()).path("models").path(MODEL).path("files")
                .properties().forEach(e -> expected.put(e.getKey(), e.getValue().asText()));
        assertThat(expected).as("scripts/keras/expected-models.json records the SavedModel of " + MODEL).isNotEmpty();
        if (isConverted(modelDir, expected)) return modelDir;
        // KerasImportIT (training, earlier in scripts/test) converts the same model with the same descriptor.
        Path keras = root.resolve("training/target/keras-import").resolve(MODEL);
        if (isConverted(keras, expected)) return keras;

        Path cache = state.resolve("keras-import");
        System.out.println(MODEL + " is not in " + modelDir + " (or differs from scripts/keras/expected-models.json): converting it");
        runProcess(List.of("bash", root.resolve("scripts/keras/fetch-nsfwjs").toString(), cache.toString()), 600);
        KerasImporter.Result converted = KerasImporter.convert(new KerasImporter.Request(
                cache.resolve("tfjs/inception_v3"), "flatten_1", modelDir, MODEL, "4.4.0", "RGB",
                new Normalisation(1f / 255f, new float[3], new float[] {1f, 1f, 1f}), ResizePolicy.STRETCH,
                Resampling.BILINEAR_ALIGN_CORNERS, 255));
        System.out.printf(Locale.ROOT, "converted %s in %.1f s%n", MODEL, converted.seconds());
        assertThat(isConverted(modelDir, expected)).as(MODEL + " converted with the SHA-256 of scripts/keras/expected-models.json").isTrue();
        return modelDir;
    }

    private static boolean isConverted(Path modelDir, Map<String, String> expected) throws IOException {
        if (!Files.isRegularFile(modelDir.resolve("model.json")) || !Files.isRegularFile(modelDir.resolve("saved_model.pb"))) return false;
        if (EmbeddingModelDescriptor.read(modelDir).embeddingDimension() != DIMENSION) return false;
        Map<String, String> savedModel = new TreeMap<>();
        KerasImporter.checksums(modelDir).forEach((file, sum) -> {
            if (file.equals("saved_model.pb") || file.startsWith("variables/")) savedModel.put(file, sum);
        });
        return savedModel.equals(expected);
    }

    private static void runProcess(List<String> command, long timeoutSeconds) throws Exception {
        ChildCommands.run(command, timeoutSeconds, "converting " + MODEL + " needs bash, Node.js 20+ and npm (Debian: apt-get install nodejs npm)");
    }


    private record Answer(int status, String body, JsonNode json) {}

    private static Answer get(SearchService service, String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(service.baseUri().resolve(path)).build());
    }

    private static Answer post(SearchService service, String path, String json) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(service.baseUri().resolve(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private static Answer send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        JsonNode json = response.headers().firstValue("Content-Type").orElse("").startsWith("application/json")
                ? JSON.readTree(response.body()) : null;
        return new Answer(response.statusCode(), response.body(), json);
    }
}
