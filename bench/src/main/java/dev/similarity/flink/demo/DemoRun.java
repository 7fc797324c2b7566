package dev.similarity.flink.demo;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.flink.SimilarityIndexerJob;
import dev.similarity.flink.kafka.IndexerTopics;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One run of the indexer on the demo catalogue: start the job on a local Flink cluster, feed
 * products at a rate (0 = as fast as Kafka takes them), wait until every product's list is visible
 * to a read_committed consumer, and summarise. Used by the demo and the stream benchmark.
 */
public final class DemoRun implements AutoCloseable {

    private final DemoCatalogue catalogue;
    private final DemoImageServer images;
    private final IndexerConfig config;
    private final JobClient job;
    private volatile boolean detached;
    private final NeighbourListCollector lists;
    private final NeighbourListCollector deadLetters;
    private volatile CatalogueEmbeddings embeddings;

    /**
     * @param webUiPort port of Flink's web UI, or -1 for no web UI
     * @param settings  job options on top of the demo's defaults
     */
    public DemoRun(DemoCatalogue catalogue, DemoImageServer images, String bootstrapServers, Path workDir,
                   String runName, int webUiPort, Map<String, String> settings) throws Exception {
        this(catalogue, images, bootstrapServers, workDir, runName, localEnvironment(webUiPort), settings);
    }

    /** As above, on the environment {@code environments} makes from the job's runtime configuration. */
    public DemoRun(DemoCatalogue catalogue, DemoImageServer images, String bootstrapServers, Path workDir,
                   String runName, Function<Configuration, StreamExecutionEnvironment> environments,
                   Map<String, String> settings) throws Exception {
        this(catalogue, images, bootstrapServers, workDir, runName, settings,
                inJvm(environments));
    }

    /** Starts the job with its final configuration: in this JVM, or on a cluster ({@link ClusterJobClient}). */
    @FunctionalInterface
    public interface JobLauncher {
        JobClient launch(IndexerConfig config) throws Exception;
    }

    /** As above, the job started by {@code launcher}. */
    public DemoRun(DemoCatalogue catalogue, DemoImageServer images, String bootstrapServers, Path workDir,
                   String runName, Map<String, String> settings, JobLauncher launcher) throws Exception {
        this.catalogue = catalogue;
        this.images = images;
        Map<String, String> options = new HashMap<>();
        options.put(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS.key(), bootstrapServers);
        options.put(IndexerOptions.CATALOGUE_TOPIC.key(), runName + "-catalogue-events");
        options.put(IndexerOptions.NEIGHBOUR_TOPIC.key(), runName + "-neighbour-lists");
        options.put(IndexerOptions.DEAD_LETTER_TOPIC.key(), runName + "-dead-letters");
        options.put(IndexerOptions.CONSUMER_GROUP.key(), runName);
        // Two subtasks unless the caller says otherwise: the figures in the README are for this.
        options.put(IndexerOptions.PARALLELISM.key(), "2");
        options.put(IndexerOptions.TRANSACTIONAL_ID_PREFIX.key(), runName);
        options.put(IndexerOptions.FETCH_RETRY_TOPIC.key(), runName + "-fetch-retries");
        // The demo's image server runs on loopback: trust exactly its origin, first requests only.
        options.put(IndexerOptions.FETCH_TRUSTED_ORIGINS.key(), images.baseUrl());
        options.put(IndexerOptions.CHECKPOINT_DIR.key(), workDir.resolve("checkpoints").toAbsolutePath().toUri().toString());
        options.put(IndexerOptions.SNAPSHOT_DIR.key(), workDir.resolve("snapshots").toAbsolutePath().toUri().toString());
        options.putAll(settings);
        this.config = IndexerConfig.from(options);
        IndexerTopics.ensureExist(config, 4);
        this.lists = new NeighbourListCollector(bootstrapServers, config.get(IndexerOptions.NEIGHBOUR_TOPIC), true);
        this.deadLetters = new NeighbourListCollector(bootstrapServers, config.get(IndexerOptions.DEAD_LETTER_TOPIC), false);
        this.job = launcher.launch(config);
    }

    private DemoRun(DemoRun earlier, JobClient job) {
        this.catalogue = earlier.catalogue;
        this.images = earlier.images;
        this.config = earlier.config;
        this.lists = earlier.lists;
        this.deadLetters = earlier.deadLetters;
        this.embeddings = earlier.embeddings;
        this.job = job;
    }

    /**
     * The same run's job started again on the environment {@code environments} makes (e.g. one restoring a
     * retained checkpoint after this run's job was cancelled): same configuration and topics, and the same
     * collectors, which have read every record so far and go on reading. Closing either run closes them.
     */
    public DemoRun relaunch(Function<Configuration, StreamExecutionEnvironment> environments) throws Exception {
        return new DemoRun(this, inJvm(environments).launch(config));
    }

    /** Starts the job in this JVM on the environment {@code environments} makes from its runtime configuration. */
    private static JobLauncher inJvm(Function<Configuration, StreamExecutionEnvironment> environments) {
        return config -> SimilarityIndexerJob.start(environments.apply(SimilarityIndexerJob.runtimeConfiguration(config)), config);
    }

    /** A local Flink cluster in this JVM, with the web UI on {@code webUiPort} (-1: none). */
    public static Function<Configuration, StreamExecutionEnvironment> localEnvironment(int webUiPort) {
        return flink -> {
            if (webUiPort < 0) {
                return StreamExecutionEnvironment.createLocalEnvironment(flink);
            }
            flink.set(RestOptions.PORT, webUiPort);
            flink.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
            return StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(flink);
        };
    }

    public IndexerConfig config() {
        return config;
    }

    public JobClient job() {
        return job;
    }

    public NeighbourListCollector lists() {
        return lists;
    }

    public NeighbourListCollector deadLetters() {
        return deadLetters;
    }

    /** From now on, upserts carry these embeddings of their images, so the job fetches and embeds nothing (null: off). */
    public void embeddedEvents(CatalogueEmbeddings embeddings) {
        this.embeddings = embeddings;
    }

    /** What an upsert of a product showing catalogue image {@code image} carries: its embedding, or null (see above). */
    /** The embeddings upserts carry (null: none, the job fetches and embeds). */
    public CatalogueEmbeddings carriedEmbeddings() {
        return embeddings;
    }

    public dev.similarity.schemas.ImageEmbedding embeddingOf(int image) {
        CatalogueEmbeddings carried = embeddings;
        return carried == null ? null : carried.event(image);
    }

    /**
     * Feeds {@code products} products (catalogue numbers {@code first ..}) at {@code rate} events/s
     * (0 = no limit), waits up to {@code timeoutMs} for all their lists, and summarises.
     */
    public RunSummary feedAndMeasure(int first, int products, double rate, long timeoutMs, boolean progress) throws Exception {
        return feedAndMeasure(first, products, rate, timeoutMs, progress, n -> n);
    }

    /**
     * As above, product n showing image {@code imageOf(n)} (a catalogue number, or {@link
     * DemoCatalogue#PLACEHOLDER}); its category stays product n's.
     */
    public RunSummary feedAndMeasure(int first, int products, double rate, long timeoutMs, boolean progress,
                                     java.util.function.IntUnaryOperator imageOf) throws Exception {
        return feedAndMeasure(java.util.stream.IntStream.range(first, first + products).toArray(), rate, timeoutMs, progress, imageOf);
    }

    /** As above, feeding the catalogue numbers {@code numbers} in that order (the churn benchmark's clustered order). */
    public RunSummary feedAndMeasure(int[] numbers, double rate, long timeoutMs, boolean progress,
                                     java.util.function.IntUnaryOperator imageOf) throws Exception {
        int products = numbers.length;
        List<RunSummary.Fed> fed = new ArrayList<>(products);
        long startedAt = System.currentTimeMillis();
        try (CatalogueFeeder feeder = new CatalogueFeeder(config.get(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS),
                config.get(IndexerOptions.CATALOGUE_TOPIC), config.get(IndexerOptions.CATALOGUE_WIRE_FORMAT))) {
            long lastReport = startedAt;
            for (int i = 0; i < products; i++) {
                if (rate > 0) {
                    long due = startedAt + (long) (i * 1000.0 / rate);
                    long wait = due - System.currentTimeMillis();
                    if (wait > 0) Thread.sleep(wait);
                }
                int n = numbers[i];
                String id = catalogue.productId(n);
                int image = imageOf.applyAsInt(n);
                long ts = feeder.upsert(id, images.imageUrl(image, id), catalogue.category(n), 1, false, embeddingOf(image));
                fed.add(new RunSummary.Fed(id, n, 1, ts));
                if (progress && System.currentTimeMillis() - lastReport > 5_000) {
                    lastReport = System.currentTimeMillis();
                    System.out.printf("fed %,d/%,d products, %,d lists visible so far%n", i + 1, products, lists.keys());
                }
            }
            feeder.flush();
        }
        long deadline = System.currentTimeMillis() + timeoutMs;
        long lastReport = 0;
        // Only the products still waiting are looked at again: this loop shares the cores with the job, and
        // looking at every fed product five times a second took 14 % of the JVM's Java samples at 20,000 products.
        List<RunSummary.Fed> waiting = new ArrayList<>(fed);
        while (System.currentTimeMillis() < deadline) {
            // A product with a dead letter is settled too: it will get no list (its reason is on the dead-letter topic).
            waiting.removeIf(f -> RunSummary.firstVisibleAt(lists.history(f.productId()), f) >= 0
                    || !deadLetters.history(f.productId()).isEmpty());
            int done = fed.size() - waiting.size() - (int) deadLetters.records();
            if (waiting.isEmpty()) break;
            if (job.getJobStatus().get(5, TimeUnit.SECONDS).isGloballyTerminalState()) {
                System.out.println("the job stopped: " + job.getJobStatus().get());
                break;
            }
            if (progress && System.currentTimeMillis() - lastReport > 5_000) {
                lastReport = System.currentTimeMillis();
                System.out.printf("waiting for lists: %,d of %,d products have one, %,d dead letters (%,d s left)%n",
                        done, fed.size(), deadLetters.records(), (deadline - System.currentTimeMillis()) / 1000);
            }
            Thread.sleep(1_000); // the lists' visibility times come from the collector, not from this loop
        }
        Map<String, Object> extra = new HashMap<>();
        extra.put("rate_target", rate > 0 ? rate : "max");
        extra.put("checkpoint_interval_ms", config.get(IndexerOptions.CHECKPOINT_INTERVAL).toMillis());
        extra.put("shards", config.get(IndexerOptions.SHARDS));
        extra.put("k", config.get(IndexerOptions.NEIGHBOURS_K));
        return RunSummary.compute(fed, catalogue, lists, deadLetters, config.get(IndexerOptions.NEIGHBOURS_K), startedAt, extra);
    }

    /** Leaves the job running when this run closes (a job on a cluster outlives the demo). */
    public void detach() {
        detached = true;
    }

    @Override
    public void close() throws Exception {
        try {
            if (!detached) job.cancel().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the job may already have ended
        }
        lists.close();
        deadLetters.close();
    }

    /**
     * The newest {@code chk-N} folder with a {@code _metadata} file under one job's checkpoint folder: what an
     * operator resumes from after a crash. Empty if the folder or such a checkpoint does not exist.
     */
    public static java.util.Optional<Path> latestRetainedCheckpoint(Path jobCheckpoints) throws java.io.IOException {
        if (!java.nio.file.Files.isDirectory(jobCheckpoints)) return java.util.Optional.empty();
        try (java.util.stream.Stream<Path> dirs = java.nio.file.Files.list(jobCheckpoints)) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("chk-") && java.nio.file.Files.exists(d.resolve("_metadata")))
                    .max(java.util.Comparator.comparingLong(d -> Long.parseLong(d.getFileName().toString().substring(4))));
        }
    }
}
