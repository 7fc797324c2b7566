package dev.similarity.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.flink.demo.CatalogueChurn;
import dev.similarity.flink.demo.ClusterJobClient;
import dev.similarity.flink.demo.DemoCatalogue;
import dev.similarity.flink.demo.DemoImageServer;
import dev.similarity.flink.demo.DemoRun;
import dev.similarity.flink.local.LocalFlinkCluster;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotManifest.SnapshotFile;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.kafka.local.LocalKafkaBroker;
import dev.similarity.s3.local.LocalS3Server;
import dev.similarity.search.SearchService;
import dev.similarity.index.snapshot.StoreFileSystems;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Index snapshots on object storage, for real: an S3-compatible server on loopback (S3Proxy over a
 * local folder), Flink's S3 file system (flink-s3-fs-presto) as a plugin, the job publishing to
 * {@code s3://} in a mini-cluster and on a standalone cluster, and the search service loading those
 * snapshots from {@code s3://}, every file checked against its manifest's SHA-256.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class S3SnapshotsIT {

    private static final int K = 10;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path work;

    private LocalS3Server s3;
    private LocalKafkaBroker broker;
    private DemoCatalogue catalogue;
    private DemoImageServer images;
    private Path plugins;

    @BeforeAll
    void start() throws Exception {
        s3 = LocalS3Server.builder().dataDir(work.resolve("s3")).build().start();
        broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build().start();
        catalogue = new DemoCatalogue();
        images = new DemoImageServer(catalogue, 0);
        // What a TaskManager does at start: Flink's file systems from the plugins folder, with the s3.* keys.
        // The mini-cluster's job and this test's own store reads run in this JVM and use them.
        plugins = Path.of("..", "flink-local", "target", "plugins").toAbsolutePath().normalize();
        StoreFileSystems.initialize(s3.flinkSettings(), plugins);
    }

    @AfterAll
    void stop() {
        FileSystem.initialize(new Configuration(), null);
        if (images != null) images.close();
        if (broker != null) broker.close();
        if (s3 != null) s3.close();
    }

    @Test
    @Order(1)
    void theJobOnAMiniClusterPublishesToS3AndTheSearchServiceServesItsSnapshotsChecked() throws Exception {
        long startedAt = System.nanoTime();
        String snapshots = s3.uri("mini/snapshots");
        CatalogueChurn products;
        try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work.resolve("mini"), "s3-mini", -1,
                Map.of(IndexerOptions.SNAPSHOT_DIR.key(), snapshots, IndexerOptions.SNAPSHOT_INTERVAL.key(), "1 s"))) {
            products = new CatalogueChurn(run, catalogue, images);
            products.load(480, 120_000);
            assertThat(products.checkSnapshots(60_000)).containsEntry("snapshot_products", 480L);
            // A second snapshot of the shards, whatever the machine's speed: later products, later checkpoints.
            products.add(480, 20, 0, 60_000);
            products.checkContract(); // embeds the catalogue's images: the snapshots' vectors are compared with them
            Map<String, Object> report = products.checkSnapshots(60_000);
            System.out.println("snapshots in " + snapshots + ": " + report);
            assertThat(report).containsEntry("snapshot_products", 500L).containsEntry("snapshot_shards_missing", 0L)
                    .containsEntry("snapshot_stale_vectors", 0L).containsEntry("snapshot_products_in_wrong_shard", 0L);
            awaitSnapshotsServingExactNeighbours(snapshots, 500, 90_000);
            run.job().cancel().get(60, TimeUnit.SECONDS);
        }

        Path bucketFolder = s3.bucketDir().resolve("mini/snapshots");
        assertThat(filesUnder(bucketFolder.resolve("shard-0000/manifests"))).isNotEmpty().allMatch(n -> n.matches("\\d{20}\\.json"));
        // Hidden names are uploads in progress (a cancelled job can leave one; retention removes it later).
        assertThat(filesUnder(bucketFolder.resolve("shard-0001/blobs"))).anyMatch(n -> !n.startsWith("."));

        try (SearchService service = searchService(snapshots)) {
            assertServesEveryProductsExactNeighbours(service, snapshots, 500);
        }
        System.out.printf("mini-cluster to S3 to search service: %.1f s%n", (System.nanoTime() - startedAt) / 1e9);

        // The checksums are checked on what comes back from S3: damage the newest snapshot of a shard in the
        // bucket's folder, and a new service serves the one before it and says why.
        SnapshotStore store = SnapshotStore.at(snapshots);
        int shard = store.shards().stream().filter(s -> store.checkpoints(s).size() >= 2).findFirst()
                .orElseThrow(() -> new AssertionError("no shard has two snapshots: " + store.shards()));
        List<Long> published = store.checkpoints(shard);
        SnapshotManifest newest = store.manifest(shard, published.getLast());
        SnapshotFile commitPoint = newest.files().stream().filter(f -> f.name().equals(newest.segmentsFileName())).findFirst().orElseThrow();
        flipAByte(bucketFolder.resolve(String.format("shard-%04d/blobs/%s", shard, commitPoint.blob())));
        try (SearchService service = searchService(snapshots)) {
            assertThat(service.servedCheckpoints().get(shard)).isEqualTo(published.get(published.size() - 2));
            JsonNode health = get(service, "api/health").json;
            assertThat(health.get("status").asText()).isEqualTo("degraded");
            assertThat(health.at("/refused/0/shard").asInt()).isEqualTo(shard);
            assertThat(health.at("/refused/0/checkpointId").asLong()).isEqualTo(newest.checkpointId());
            assertThat(health.at("/refused/0/message").asText()).contains(commitPoint.blob()).contains("SHA-256");
            assertThat(get(service, "api/similar?product=" + catalogue.productId(0) + "&k=" + K).status).isEqualTo(200);
        }
    }

    @Test
    @Order(2)
    void theJobOnAStandaloneClusterPublishesToS3ThroughTheClustersS3PluginAndTheServiceServesIt() throws Exception {
        long startedAt = System.nanoTime();
        String snapshots = s3.uri("cluster/snapshots");
        Path modelDir = EmbeddingModelDescriptor.findCommitted(Path.of("")).orElseThrow().toAbsolutePath();
        try (LocalFlinkCluster cluster = LocalFlinkCluster.builder().workDir(work.resolve("flink")).restPort(0)
                .taskManagers(1).slotsPerTaskManager(2).config(s3.flinkSettings()).build().start()) {
            assertThat(cluster.workDir().resolve("plugins/s3-fs-presto")).isDirectory();
            Map<String, String> settings = Map.of(
                    IndexerOptions.MODEL_DIR.key(), modelDir.toString(),
                    IndexerOptions.CHECKPOINT_DIR.key(), cluster.checkpointDir().toUri().toString(),
                    IndexerOptions.SNAPSHOT_DIR.key(), snapshots,
                    IndexerOptions.SNAPSHOT_INTERVAL.key(), "1 s");
            try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work.resolve("cluster"), "s3-cluster",
                    settings, config -> ClusterJobClient.submit(cluster.restClient(), jobJar(), config, 2, null))) {
                CatalogueChurn products = new CatalogueChurn(run, catalogue, images);
                products.load(300, 240_000);
                products.checkContract();
                Map<String, Object> report = products.checkSnapshots(60_000);
                System.out.println("snapshots in " + snapshots + ": " + report);
                assertThat(report).containsEntry("snapshot_products", 300L).containsEntry("snapshot_stale_vectors", 0L);
                awaitSnapshotsServingExactNeighbours(snapshots, 300, 120_000);
                run.job().cancel().get(60, TimeUnit.SECONDS);
            }
            assertThat(Files.readString(cluster.logDir().resolve("taskmanager-0.log")))
                    .as("the TaskManager loaded the S3 file system as a plugin").contains("s3-fs-presto");
        }
        assertThat(filesUnder(s3.bucketDir().resolve("cluster/snapshots/shard-0001/manifests"))).isNotEmpty();
        try (SearchService service = searchService(snapshots)) {
            assertServesEveryProductsExactNeighbours(service, snapshots, 300);
        }
        System.out.printf("standalone cluster to S3 to search service: %.1f s%n", (System.nanoTime() - startedAt) / 1e9);
    }

    /** A service over the s3:// store, set up as scripts/search-service does: S3 keys and the plugins folder. */
    private SearchService searchService(String store) {
        return SearchService.builder().store(store).fileSystemSettings(s3.flinkSettings()).pluginsDir(plugins)
                .port(0).localDir(work.resolve("search")).pollInterval(Duration.ofHours(1)).build().start();
    }

    /**
     * Every product of the first {@code n} is served with its exact top-k over the products in the
     * snapshots (read here from S3 too), nearly always; health is ok and no load failed.
     */
    private void assertServesEveryProductsExactNeighbours(SearchService service, String snapshots, int n) throws Exception {
        Answer health = get(service, "api/health");
        assertThat(health.status).as(health.body).isEqualTo(200);
        assertThat(health.json.get("status").asText()).isEqualTo("ok");
        assertThat(health.json.get("documents").asInt()).isEqualTo(n);
        assertThat(get(service, "metrics").body).doesNotContain("search_snapshot_load_failures_total{");

        SnapshotStore store = SnapshotStore.at(snapshots);
        List<String> ids = new ArrayList<>();
        List<float[]> vectors = new ArrayList<>();
        for (int shard : store.shards()) {
            try (ShardSnapshot snapshot = ShardSnapshot.load(store, store.latest(shard).orElseThrow())) {
                for (ShardSnapshot.SnapshotProduct product : snapshot.products(0, Integer.MAX_VALUE)) {
                    ids.add(product.productId());
                    vectors.add(product.vector());
                }
            }
        }
        float[][] all = vectors.toArray(float[][]::new);
        double overlap = 0;
        for (int q = 0; q < ids.size(); q++) {
            Answer answer = get(service, "api/similar?product=" + ids.get(q) + "&k=" + K);
            assertThat(answer.status).as(answer.body).isEqualTo(200);
            Set<String> served = new HashSet<>();
            answer.json.get("neighbours").forEach(nb -> served.add(nb.get("productId").asText()));
            assertThat(served).hasSize(K).doesNotContain(ids.get(q));
            int hits = 0;
            for (int i : CatalogueChurn.exactTopK(all, q, K)) {
                if (served.contains(ids.get(i))) hits++;
            }
            overlap += hits / (double) K;

        }
        double mean = overlap / ids.size();
        System.out.printf("search service over %s: %d products, mean overlap with the exact top-%d %.4f%n", snapshots, ids.size(), K, mean);
        assertThat(ids).hasSize(n);
        assertThat(mean).isGreaterThanOrEqualTo(0.95);
    }

    /**
     * Waits, while the job runs, until every shard's newest snapshot holds what the lists show. Lists are
     * committed once every event is processed, but a product's image node and its product document can
     * live in different shards, snapshotted at different checkpoints; the next snapshot of each brings them
     * together.
     */
    private void awaitSnapshotsServingExactNeighbours(String snapshots, int n, long timeoutMs) throws Exception {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (true) {
            try (SearchService service = searchService(snapshots)) {
                assertServesEveryProductsExactNeighbours(service, snapshots, n);
                return;
            } catch (AssertionError notYet) {
                if (System.currentTimeMillis() > deadline) throw notYet;
                Thread.sleep(2_000);
            }
        }
    }

    private record Answer(int status, String body, JsonNode json) {}

    private static Answer get(SearchService service, String path) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(service.baseUri().resolve(path)).build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode json = response.headers().firstValue("Content-Type").orElse("").startsWith("application/json")
                ? JSON.readTree(response.body()) : null;
        return new Answer(response.statusCode(), response.body(), json);
    }

    private static List<String> filesUnder(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static Path jobJar() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("..", "flink-jobs", "target"))) {
            return files.filter(p -> p.getFileName().toString().matches("flink-jobs-.*-job\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no job jar in flink-jobs/target: build it with mvn package"))
                    .toAbsolutePath();
        }
    }

    private static void flipAByte(Path file) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(raf.length() / 2);
            int b = raf.read();
            raf.seek(raf.length() / 2);
            raf.write(b ^ 0x5a);
        }
    }
}
