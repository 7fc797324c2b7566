package dev.similarity.flink;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.flink.demo.CatalogueChurn;
import dev.similarity.flink.demo.ClusterJobClient;
import dev.similarity.flink.demo.DemoCatalogue;
import dev.similarity.flink.demo.DemoImageServer;
import dev.similarity.flink.demo.DemoRun;
import dev.similarity.flink.demo.RunSummary;
import dev.similarity.flink.local.FlinkRestClient;
import dev.similarity.flink.local.LocalFlinkCluster;
import dev.similarity.kafka.local.LocalKafkaBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job as operators run it: a standalone session cluster of separate JVM processes (JobManager and
 * TaskManagers from Maven Central jars), the job jar uploaded and run through the REST API as the web
 * UI does, a real Kafka broker, the committed model. Processes are killed with SIGKILL mid-stream;
 * afterwards a read_committed consumer must see every product listed per the exact top-k contract and
 * no list update committed twice.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterFailoverIT {

    private static final int PRODUCTS = 2_000;

    @TempDir
    static Path work;

    private LocalKafkaBroker broker;
    private DemoCatalogue catalogue;
    private DemoImageServer images;
    private LocalFlinkCluster cluster;
    private FlinkRestClient rest;
    private Path jobJar;
    private Path modelDir;

    @BeforeAll
    void start() throws Exception {
        jobJar = jobJar();
        modelDir = EmbeddingModelDescriptor.findCommitted(Path.of("")).orElseThrow().toAbsolutePath();
        broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build().start();
        catalogue = new DemoCatalogue();
        images = new DemoImageServer(catalogue, 0);
        cluster = LocalFlinkCluster.builder().workDir(work.resolve("flink")).restPort(0).taskManagers(2).slotsPerTaskManager(2).build().start();
        rest = cluster.restClient();
    }

    @AfterAll
    void stop() {
        if (cluster != null) cluster.close();
        if (images != null) images.close();
        if (broker != null) broker.close();
    }

    private static Path jobJar() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("..", "flink-jobs", "target"))) {
            return files.filter(p -> p.getFileName().toString().matches("flink-jobs-.*-job\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no job jar in flink-jobs/target: build it with mvn package"))
                    .toAbsolutePath();
        }
    }

    private DemoRun submit(String runName, Map<String, String> jobArguments) throws Exception {
        Map<String, String> settings = new java.util.HashMap<>(jobArguments);
        settings.put(IndexerOptions.MODEL_DIR.key(), modelDir.toString());
        settings.put(IndexerOptions.CHECKPOINT_DIR.key(), cluster.checkpointDir().toUri().toString());
        return new DemoRun(catalogue, images, broker.bootstrapServers(), work.resolve(runName), runName, settings,
                config -> ClusterJobClient.submit(rest, jobJar, config, 2, null));
    }

    private double scrapedWithin(String metric, int seconds) throws Exception {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        double sum = scraped(metric);
        while (sum <= 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(5_000);
            sum = scraped(metric);
        }
        return sum;
    }

    /** How many series of one job metric the live TaskManagers' Prometheus endpoints export. */
    private long seriesScraped(String metric) throws Exception {
        long series = 0;
        for (String body : scrapes().values()) {
            for (String line : body.split("\n")) {
                if (line.startsWith(metric + "{")) series++;
            }
        }
        return series;
    }

    /** Sum of one job metric over the Prometheus endpoints of the live TaskManagers, as a scraper sees it. */
    private double scraped(String metric) throws Exception {
        double sum = 0;
        for (Map.Entry<LocalFlinkCluster.ClusterProcess, String> scrape : scrapes().entrySet()) {
            long operatorLines = 0;
            for (String line : scrape.getValue().split("\n")) {
                if (line.startsWith("flink_taskmanager_job_task_operator_")) operatorLines++;
                if (line.startsWith(metric + "{")) sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
            System.out.printf("scraped %s (%s): %d operator metric lines; %s so far %.0f%n", scrape.getKey().prometheusUrl(),
                    scrape.getKey().name(), operatorLines, metric, sum);
        }
        return sum;
    }

    /** Each live TaskManager's Prometheus page. */
    private Map<LocalFlinkCluster.ClusterProcess, String> scrapes() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        Map<LocalFlinkCluster.ClusterProcess, String> pages = new java.util.LinkedHashMap<>();
        for (LocalFlinkCluster.ClusterProcess tm : cluster.taskManagers()) {
            pages.put(tm, http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(tm.prometheusUrl())).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body());
        }
        return pages;
    }

    /**
     * Whether the job shows a failover within {@code seconds}: {@code numRestarts} at least 1 (the REST metric
     * fetcher refreshes it every 10 s) or an entry in its exception history. If neither shows, prints what an
     * operator would look at (job state, exception history, live TaskManagers, the JobManager log's tail).
     */
    private boolean awaitFailover(String jobId, int seconds) throws Exception {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        while (System.currentTimeMillis() < deadline) {
            double restarts = rest.jobMetric(jobId, "numRestarts").map(Double::parseDouble).orElse(0.0);
            if (restarts >= 1 || rest.latestException(jobId).isPresent()) return true;
            Thread.sleep(1_000);
        }
        System.out.println("no failover seen: job " + rest.job(jobId) + "; metric numRestarts "
                + rest.jobMetric(jobId, "numRestarts") + "; exceptions " + rest.get("/jobs/" + jobId + "/exceptions")
                + "; live TaskManagers " + cluster.taskManagers() + "; overview " + rest.overview());
        for (com.fasterxml.jackson.databind.JsonNode vertex : new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(rest.get("/jobs/" + jobId)).path("vertices")) {
            System.out.println("vertex " + vertex.path("name").asText() + " " + vertex.path("status").asText() + " on "
                    + rest.get("/jobs/" + jobId + "/vertices/" + vertex.path("id").asText() + "/taskmanagers"));
        }
        Optional<LocalFlinkCluster.ClusterProcess> jobManager = cluster.jobManager();
        if (jobManager.isPresent()) {
            List<String> log = Files.readAllLines(jobManager.get().logFile());
            log.subList(Math.max(0, log.size() - 200), log.size()).forEach(line -> System.out.println("jobmanager.log: " + line));
        }
        return false;
    }

    private void awaitLists(DemoRun run, int n) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 300_000;
        while (run.lists().keys() < n && System.currentTimeMillis() < deadline) Thread.sleep(200);
        assertThat(run.lists().keys()).as("lists visible").isGreaterThanOrEqualTo(n);
    }

    private void assertContractAndNoDuplicates(DemoRun run, CatalogueChurn products, int live) throws Exception {
        Map<String, Object> contract = products.checkContract();
        System.out.println("contract: " + contract);
        assertThat(contract).as("contract").containsEntry("live_products", live).containsEntry("missing_lists", 0L)
                .containsEntry("lists_of_wrong_size", 0L).containsEntry("lists_naming_removed", 0L);
        assertThat((Double) contract.get("mean_overlap")).as(contract.toString()).isGreaterThanOrEqualTo(0.95);
        assertThat(run.lists().repeatedUpdates()).as("list updates committed more than once").isEmpty();
    }

    @Test
    @Order(1)
    void aTaskManagerKilledMidStreamLosesAndDuplicatesNothing() throws Exception {
        try (DemoRun run = submit("tm-kill", Map.of())) {
            ClusterJobClient job = (ClusterJobClient) run.job();
            rest.awaitJob(job.id(), "running", FlinkRestClient.JobInfo::fullyRunning, java.time.Duration.ofMinutes(3));
            // Two fresh TaskManagers stand by; the job stays on the two it was deployed to.
            cluster.startTaskManager();
            cluster.startTaskManager();
            CatalogueChurn products = new CatalogueChurn(run, catalogue, images);
            ExecutorService feeder = Executors.newSingleThreadExecutor();
            Future<RunSummary> feeding = feeder.submit(() -> products.add(0, PRODUCTS, 100, 900_000));
            feeder.shutdown();
            // Early in the stream: most products arrive after the restore, so their reverse updates rely on the
            // probe window restored from the checkpoint (with a heap-only window: mean overlap 0.908).
            awaitLists(run, 300);

            // SIGKILL to both TaskManagers that ran the job, mid-stream: it must fail over to the fresh ones.
            long killedAt = System.currentTimeMillis();
            cluster.killTaskManager(0);
            cluster.killTaskManager(1);
            System.out.printf("killed taskmanager-0 and -1 with %d lists visible%n", run.lists().keys());
            assertThat(awaitFailover(job.id(), 180)).as("the job failed over after the kill (diagnostics above)").isTrue();

            RunSummary summary = feeding.get(900, TimeUnit.SECONDS);
            products.awaitQuiet(5_000, 180_000);
            assertThat(summary.get("products_with_list")).isEqualTo(PRODUCTS);
            System.out.printf("recovered: every list committed %.1f s after the kill%n", (System.currentTimeMillis() - killedAt) / 1000.0);
            assertContractAndNoDuplicates(run, products, PRODUCTS);
            // What an operator's Prometheus scrapes from the TaskManagers the job failed over to.
            // A task registers its metrics when it opens: allow for one still initializing after a late restart.
            // Images fetched since the failover may be none: products fetched and embedded before the kill can wait,
            // checkpointed, in a shard's pending batch (the bulk phase) and be restored already embedded.
            assertThat(scrapedWithin("flink_taskmanager_job_task_operator_imagesInShards", 120)).as("imagesInShards scraped").isPositive();
            assertThat(scrapedWithin("flink_taskmanager_job_task_operator_listsPublished", 120)).as("listsPublished scraped").isPositive();
            assertThat(seriesScraped("flink_taskmanager_job_task_operator_imagesFetched")).as("imagesFetched exported").isPositive();
            job.cancel().get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(2)
    void afterTheJobManagerIsKilledTheJobResumesFromItsRetainedCheckpoint() throws Exception {
        String latest;
        CatalogueChurn products;
        String firstJob;
        try (DemoRun run = submit("jm-kill", Map.of())) {
            firstJob = ((ClusterJobClient) run.job()).id();
            products = new CatalogueChurn(run, catalogue, images);
            products.add(0, 800, 100, 600_000);
            Thread.sleep(3_000); // at least one checkpoint after the last list
            cluster.killJobManager();
            cluster.restartJobManager();
            latest = DemoRun.latestRetainedCheckpoint(cluster.checkpointDir().resolve(firstJob)).map(p -> p.toUri().toString())
                    .orElseThrow(() -> new AssertionError("no retained checkpoint of " + firstJob));
            System.out.println("resuming from " + latest);
        }
        // Resumed the way `flink run ... --execution.state-recovery.path <checkpoint>` does: a job argument.
        try (DemoRun resumed = submit("jm-kill", Map.of("execution.state-recovery.path", latest))) {
            CatalogueChurn after = new CatalogueChurn(resumed, catalogue, images);
            after.assumeLoaded(0, 800);
            RunSummary summary = after.add(800, 700, 100, 600_000);
            after.awaitQuiet(5_000, 180_000);
            assertThat(summary.get("products_with_list")).isEqualTo(700);
            assertContractAndNoDuplicates(resumed, after, 1_500);
            resumed.job().cancel().get(60, TimeUnit.SECONDS);
        }
    }
}
