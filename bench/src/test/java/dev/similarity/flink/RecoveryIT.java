package dev.similarity.flink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.similarity.flink.demo.CatalogueChurn;
import dev.similarity.flink.demo.DemoCatalogue;
import dev.similarity.flink.demo.DemoImageServer;
import dev.similarity.flink.demo.DemoRun;
import dev.similarity.flink.demo.NeighbourListCollector;
import dev.similarity.flink.demo.RunSummary;
import dev.similarity.kafka.local.LocalKafkaBroker;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Failures on purpose, in the style of flink-connector-kafka's exactly-once tests: a TaskManager is
 * killed while products flow, and a job is stopped with a savepoint and resumed at another
 * parallelism. Afterwards a read_committed consumer must see every list, none twice, and the
 * restored shards must hold each product exactly once.
 */
class RecoveryIT {

    private static final int K = 10;

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(2).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path work;

    private static LocalKafkaBroker broker;
    /** Index of the first live TaskManager: the mini-cluster keeps terminated ones in its list. */
    private static int firstLiveTaskManager;
    private static DemoCatalogue catalogue;
    private static DemoImageServer images;

    @BeforeAll
    static void start() throws Exception {
        broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build().start();
        catalogue = new DemoCatalogue();
        images = new DemoImageServer(catalogue, 0);
    }

    @AfterAll
    static void stop() {
        if (images != null) images.close();
        if (broker != null) broker.close();
    }

    /** The mini-cluster's environment with the job's runtime configuration, restarts on, optionally from a savepoint. */
    private static Function<Configuration, StreamExecutionEnvironment> miniCluster(String savepoint) {
        return flink -> {
            flink.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 20);
            flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
            if (savepoint != null) flink.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
            return StreamExecutionEnvironment.getExecutionEnvironment(flink);
        };
    }

    @Test
    void aKilledTaskManagerLosesAndDuplicatesNothing(@InjectMiniCluster MiniCluster cluster) throws Exception {
        try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work.resolve("kill"), "kill",
                miniCluster(null), Map.of())) {
            CatalogueChurn products = new CatalogueChurn(run, catalogue, images);
            // Its own thread: on 2 cores the common pool has one worker, which MiniCluster needs itself.
            ExecutorService feeder = Executors.newSingleThreadExecutor();
            Future<RunSummary> feeding = feeder.submit(() -> products.add(0, 1_200, 100, 600_000));
            feeder.shutdown();
            long deadline = System.currentTimeMillis() + 300_000;
            while (run.lists().keys() < 200 && System.currentTimeMillis() < deadline) Thread.sleep(100);
            assertThat(run.lists().keys()).as("lists visible before the failure").isGreaterThanOrEqualTo(200);

            failOverToFreshTaskManagers(cluster);

            RunSummary summary = feeding.get(600, TimeUnit.SECONDS);
            products.awaitQuiet(5_000, 120_000);
            assertThat(summary.get("products_with_list")).isEqualTo(1_200);
            JsonNode exceptions = rest(cluster, "/jobs/" + run.job().getJobID() + "/exceptions");
            assertThat(exceptions.path("exceptionHistory").path("entries").size()).as("the job failed over").isGreaterThanOrEqualTo(1);
            assertContractAndNoDuplicates(run, products, 1_200);
            assertThat(productsInShards(cluster, run)).as("each product in exactly one shard, once").isEqualTo(1_200);
        }
    }

    @Test
    void aSavepointResumesAtAnotherParallelism(@InjectMiniCluster MiniCluster cluster) throws Exception {
        String savepoint;
        try (DemoRun before = new DemoRun(catalogue, images, broker.bootstrapServers(), work.resolve("rescale"), "rescale",
                miniCluster(null), Map.of("indexer.parallelism", "2", "index.shards", "4"))) {
            new CatalogueChurn(before, catalogue, images).add(0, 600, 0, 600_000);
            savepoint = before.job().stopWithSavepoint(false, work.resolve("savepoints").toUri().toString(),
                    SavepointFormatType.CANONICAL).get(120, TimeUnit.SECONDS);
        }
        try (DemoRun after = new DemoRun(catalogue, images, broker.bootstrapServers(), work.resolve("rescale"), "rescale",
                miniCluster(savepoint), Map.of("indexer.parallelism", "3", "index.shards", "4"))) {
            CatalogueChurn products = new CatalogueChurn(after, catalogue, images);
            products.assumeLoaded(0, 600);
            RunSummary summary = products.add(600, 400, 0, 600_000);
            products.awaitQuiet(5_000, 120_000);
            assertThat(summary.get("products_with_list")).isEqualTo(400);
            assertContractAndNoDuplicates(after, products, 1_000);
            assertThat(productsInShards(cluster, after)).as("restored shards hold the savepoint's products once").isEqualTo(1_000);
        }
    }

    /** Starts two fresh TaskManagers, then kills the two that ran the job, so it must fail over. */
    private static void failOverToFreshTaskManagers(MiniCluster cluster) throws Exception {
        cluster.startTaskManager();
        cluster.startTaskManager();
        killTheJobsTaskManagers(cluster);
    }

    /** Kills the two TaskManagers that run the job (fresh ones must stand by). */
    private static void killTheJobsTaskManagers(MiniCluster cluster) throws Exception {
        // Highest index first; terminated TaskManagers keep their places in the list.
        cluster.terminateTaskManager(firstLiveTaskManager + 1).get(60, TimeUnit.SECONDS);
        cluster.terminateTaskManager(firstLiveTaskManager).get(60, TimeUnit.SECONDS);
        firstLiveTaskManager += 2;
    }

    /** Id and completion time (ms) of the job's latest completed checkpoint, or id -1. */
    private static long[] latestCompletedCheckpoint(MiniCluster cluster, DemoRun run) throws Exception {
        JsonNode completed = rest(cluster, "/jobs/" + run.job().getJobID() + "/checkpoints").path("latest").path("completed");
        return completed.isMissingNode() || completed.isNull() ? new long[] {-1, 0}
                : new long[] {completed.path("id").asLong(-1), completed.path("latest_ack_timestamp").asLong()};
    }

    /** Waits for the next checkpoint to complete; returns its completion time (ms since the epoch). */
    private static long nextCompletedCheckpoint(MiniCluster cluster, DemoRun run) throws Exception {
        long last = latestCompletedCheckpoint(cluster, run)[0];
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            long[] latest = latestCompletedCheckpoint(cluster, run);
            if (latest[0] > last) return latest[1];
            Thread.sleep(10);
        }
        throw new AssertionError("no checkpoint completed in 120 s");
    }

    /**
     * As flink-connector-kafka's exactly-once tests do: failures injected right after a checkpoint
     * completed (its transactions committed, the next one's records in flight) and right before the next
     * one (a whole interval of uncommitted output). A read_committed consumer must then see every list,
     * none twice: what was committed is exactly what completed checkpoints cover.
     */
    @Test
    void failuresRightAfterAndRightBeforeACheckpointLoseAndDuplicateNothing(@InjectMiniCluster MiniCluster cluster) throws Exception {
        try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work.resolve("boundary"), "boundary",
                miniCluster(null), Map.of())) {
            CatalogueChurn products = new CatalogueChurn(run, catalogue, images);
            ExecutorService feeder = Executors.newSingleThreadExecutor();
            Future<RunSummary> feeding = feeder.submit(() -> products.add(0, 1_500, 100, 600_000));
            feeder.shutdown();
            long deadline = System.currentTimeMillis() + 300_000;
            while (run.lists().keys() < 200 && System.currentTimeMillis() < deadline) Thread.sleep(100);

            cluster.startTaskManager();
            cluster.startTaskManager();
            nextCompletedCheckpoint(cluster, run);
            killTheJobsTaskManagers(cluster);                       // right after a completed checkpoint
            System.out.printf("killed right after a checkpoint with %d lists visible%n", run.lists().keys());

            int before = run.lists().keys();
            while (run.lists().keys() < before + 200 && System.currentTimeMillis() < deadline) Thread.sleep(100);
            cluster.startTaskManager();
            cluster.startTaskManager();
            long completedAt = nextCompletedCheckpoint(cluster, run);
            long interval = run.config().get(IndexerOptions.CHECKPOINT_INTERVAL).toMillis();
            Thread.sleep(Math.max(0, completedAt + interval * 8 / 10 - System.currentTimeMillis()));
            killTheJobsTaskManagers(cluster);                       // right before the next one
            System.out.printf("killed right before a checkpoint with %d lists visible%n", run.lists().keys());

            RunSummary summary = feeding.get(600, TimeUnit.SECONDS);
            products.awaitQuiet(5_000, 180_000);
            assertThat(summary.get("products_with_list")).isEqualTo(1_500);
            assertContractAndNoDuplicates(run, products, 1_500);
        }
    }

    private static void assertContractAndNoDuplicates(DemoRun run, CatalogueChurn products, int live) throws Exception {
        Map<String, Object> contract = products.checkContract();
        assertThat(contract).as("contract").containsEntry("live_products", live)
                .containsEntry("missing_lists", 0L).containsEntry("lists_of_wrong_size", 0L)
                .containsEntry("lists_naming_removed", 0L);
        assertThat((Double) contract.get("mean_overlap")).as(contract.toString()).isGreaterThanOrEqualTo(0.95);
        assertThat(run.lists().repeatedUpdates()).as("list updates committed more than once").isEmpty();
    }

    /**
     * The duplicate check above must be able to fail: with the sinks switched to at-least-once, the same
     * TaskManager kill replays the updates written after the last checkpoint, and the check sees them.
     */
    @Test
    void theDuplicateCheckCatchesTheReplaysOfAnAtLeastOnceSink(@InjectMiniCluster MiniCluster cluster) throws Exception {
        try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work.resolve("at-least-once"), "alo",
                miniCluster(null), Map.of("kafka.delivery-guarantee", "at-least-once"))) {
            CatalogueChurn products = new CatalogueChurn(run, catalogue, images);
            // Replays need output written after the last checkpoint, so the kill must land while the job works:
            // not while it waits for its first products, nor after it wrote a backlog in one batch and checkpointed.
            products.add(0, 400, 100, 600_000);
            cluster.startTaskManager();
            cluster.startTaskManager();
            ExecutorService feeder = Executors.newSingleThreadExecutor();
            Future<RunSummary> feeding = feeder.submit(() -> products.add(400, 800, 100, 600_000));
            feeder.shutdown();
            int before = run.lists().keys();
            long deadline = System.currentTimeMillis() + 300_000;
            while (run.lists().keys() < before + 100 && System.currentTimeMillis() < deadline) Thread.sleep(20);
            boolean feedRunning = !feeding.isDone();
            killTheJobsTaskManagers(cluster);
            System.out.printf("at-least-once: killed with %d lists visible, feed still running: %s%n", run.lists().keys(), feedRunning);
            feeding.get(600, TimeUnit.SECONDS);
            products.awaitQuiet(5_000, 120_000);
            JsonNode exceptions = rest(cluster, "/jobs/" + run.job().getJobID() + "/exceptions");
            assertThat(exceptions.path("exceptionHistory").path("entries").size()).as("the job failed over").isGreaterThanOrEqualTo(1);
            List<String> repeated = run.lists().repeatedUpdates();
            System.out.println("at-least-once: " + repeated.size() + " list updates committed more than once");
            assertThat(repeated).as("replayed updates found by the duplicate check (feed running at the kill: " + feedRunning + ")")
                    .isNotEmpty();
        }
    }

    /** Sum over subtasks of the shard operator's productsInShards gauge (the products behind its image nodes), once it settles. */
    private static long productsInShards(MiniCluster cluster, DemoRun run) throws Exception {
        String job = "/jobs/" + run.job().getJobID();
        String vertex = null;
        for (JsonNode v : rest(cluster, job).path("vertices")) {
            if (v.path("name").asText().startsWith("shard-index")) vertex = v.path("id").asText();
        }
        assertThat(vertex).as("shard operator vertex").isNotNull();
        long value = -1;
        for (int attempt = 0; attempt < 30; attempt++) {
            JsonNode metrics = rest(cluster, job + "/vertices/" + vertex + "/subtasks/metrics?get=shard-index-scatter.productsInShards&agg=sum");
            if (metrics.size() > 0) {
                value = (long) metrics.get(0).path("sum").asDouble();
                if (value > 0) return value;
            }
            Thread.sleep(1_000);
        }
        return value;
    }

    private static JsonNode rest(MiniCluster cluster, String path) throws Exception {
        URI base = cluster.getRestAddress().get();
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(base.resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
        return new ObjectMapper().readTree(response.body());
    }
}
