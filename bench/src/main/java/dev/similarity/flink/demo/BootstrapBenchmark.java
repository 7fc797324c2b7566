package dev.similarity.flink.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.tools.NpyFiles;
import dev.similarity.kafka.local.LocalKafkaBroker;
import dev.similarity.local.LoopbackPorts;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import dev.similarity.schemas.wire.InvalidRecordException;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * {@code scripts/bench-bootstrap}: a retailer's first run. The job starts on empty state (a fresh
 * broker, topics and checkpoint folder), N catalogue products are fed as fast as Kafka takes them,
 * through the real path (image server, fetch, embedding, shards, exactly-once lists), and the run
 * measures the wall time from the job's launch to the last list record committed, products/s, peak
 * heap, CPU per product, with {@code --stage-metrics true} the busy and back-pressured time of every
 * stage (from Flink's REST API; reading them costs the job CPU), and the mean overlap
 * of the lists with the exact top-k ({@link CatalogueChurn#checkContract()}). It then exports the
 * job's own vectors (from its index snapshots) as {@code .npy} for the all-pairs peers that
 * {@code scripts/bench-bootstrap} runs next ({@code bench/python/all_pairs_peers.py}).
 *
 * <p>Report keys: {@code products}, {@code wall_s}, {@code products_per_s}, {@code lists_published},
 * {@code mean_overlap}, {@code peak_heap_mb}, {@code process_cpu_s}, {@code cpu_ms_per_product},
 * {@code stages}, {@code contract}, {@code feed};
 * the script adds {@code peers}.
 */
public final class BootstrapBenchmark {

    private static final String USAGE = "scripts/bench-bootstrap [--products N] [--report FILE] [--export-vectors FILE.npy] "
            + "[--quiet-s 5] [--stage-metrics true] [--set option.key=value ...]";

    private BootstrapBenchmark() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> own = new LinkedHashMap<>(Map.of("--export-vectors", "", "--quiet-s", "5", "--stage-metrics", "false"));
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (own.containsKey(args[i]) && i + 1 < args.length) {
                own.put(args[i], args[++i]);
            } else {
                rest.add(args[i]);
            }
        }
        if (!rest.contains("--timeout-s")) {
            // A first run on a busy machine: allow 200 ms a product (the demo allows 50) before giving up on lists.
            int products = rest.contains("--products") ? Integer.parseInt(rest.get(rest.indexOf("--products") + 1)) : 10_000;
            rest.addAll(List.of("--timeout-s", Long.toString(Math.max(600, products / 5))));
        }
        DemoArgs a = DemoArgs.parse(rest.toArray(new String[0]), USAGE);
        boolean stageMetrics = Boolean.parseBoolean(own.get("--stage-metrics"));
        long quietMs = Long.parseLong(own.get("--quiet-s")) * 1000;
        Path export = own.get("--export-vectors").isEmpty() ? null : Path.of(own.get("--export-vectors"));
        DemoCatalogue catalogue = new DemoCatalogue();
        if (a.products() > catalogue.capacity()) {
            throw new IllegalArgumentException("--products " + a.products() + " is more than the demo catalogue's "
                    + catalogue.capacity() + " images");
        }
        Path work = a.work().resolve("bench-bootstrap");
        String runName = "bootstrap-" + System.currentTimeMillis();
        Map<String, String> settings = new LinkedHashMap<>(a.settings());
        settings.putIfAbsent(IndexerOptions.SNAPSHOT_DIR.key(), work.resolve("snapshots").resolve(runName).toAbsolutePath().toUri().toString());
        settings.putIfAbsent(IndexerOptions.CHECKPOINT_DIR.key(), work.resolve("checkpoints").resolve(runName).toAbsolutePath().toUri().toString());
        int webUiPort = LoopbackPorts.pickFree();

        Map<String, Object> report = new LinkedHashMap<>();
        try (LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(a.kafkaPort()).build().start();
             DemoImageServer images = new DemoImageServer(catalogue, 0);
             HeapSampler heap = HeapSampler.start()) {
            System.out.printf("bootstrap of %,d products on an empty job%s%n", a.products(),
                    stageMetrics ? " (Flink REST on http://127.0.0.1:" + webUiPort + ")" : "");
            // A retailer's image host serves stored files: encode the catalogue's PNGs before the clock starts,
            // so the demo server's encoding is not counted against the job (it took 3 % of the JVM's samples).
            long prepareStart = System.nanoTime();
            IntStream.range(0, a.products()).parallel().forEach(catalogue::png);
            report.put("image_prepare_s", round((System.nanoTime() - prepareStart) / 1e9));
            long launchedAt = System.currentTimeMillis();
            long cpuAtLaunch = processCpuNanos();
            try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, runName, stageMetrics ? webUiPort : -1, settings);
                 // Off unless asked for: each REST read of task metrics makes the TaskManager serialise all of its
                 // metrics, which took about a tenth of the JVM's CPU (JFR, 20,000 products, sampled every 2 s).
                 StageSampler stages = stageMetrics ? StageSampler.start("http://127.0.0.1:" + webUiPort, run.job().getJobID().toHexString()) : null) {
                // No pause after the launch: the events wait in Kafka while the job starts, as a first run's would.
                RunSummary feed = run.feedAndMeasure(0, a.products(), 0, a.timeoutMs(), true);
                CatalogueChurn churn = new CatalogueChurn(run, catalogue, images);
                churn.assumeLoaded(0, a.products());
                // Reverse updates of the last products may follow their own lists by a checkpoint or two.
                churn.awaitQuiet(quietMs, a.timeoutMs());
                long lastList = lastVisibleAt(run.lists());
                long cpuNanos = processCpuNanos() - cpuAtLaunch;
                if (stages != null) stages.stop();
                long heapPeak = heap.stop();
                double wallSeconds = (lastList - launchedAt) / 1000.0;
                int withList = productsWithList(run.lists(), catalogue, a.products());

                System.out.println("checking the lists against the exact top-k of the job's vectors ...");
                Map<String, Object> contract = churn.checkContract();
                report.put("products", a.products());
                report.put("wall_s", round(wallSeconds));
                report.put("products_per_s", round(withList / Math.max(1e-3, wallSeconds)));
                report.put("lists_published", run.lists().records());
                report.put("products_with_list", withList);
                report.put("mean_overlap", contract.get("mean_overlap"));
                report.put("peak_heap_mb", heapPeak / (1024 * 1024));
                report.put("max_heap_mb", Runtime.getRuntime().maxMemory() / (1024 * 1024));
                report.put("heap_note", "one JVM holds the Flink mini-cluster (the job), the demo image server, the feeder and "
                        + "the read_committed collector, which keeps every list it saw");
                report.put("dead_letters", run.deadLetters().records());
                report.put("dead_letter_reasons", deadLetterReasons(run.deadLetters()));
                report.put("cores", Runtime.getRuntime().availableProcessors());
                report.put("parallelism", run.config().get(IndexerOptions.PARALLELISM));
                report.put("shards", run.config().get(IndexerOptions.SHARDS));
                report.put("k", run.config().get(IndexerOptions.NEIGHBOURS_K));
                report.put("process_cpu_s", round(cpuNanos / 1e9));
                report.put("cpu_ms_per_product", round(cpuNanos / 1e6 / Math.max(1, withList)));
                report.put("cpu_note", "CPU of this JVM (job, image server, feeder, collectors) from the launch until the job was quiet; "
                        + "the broker runs in a JVM of its own");
                if (stages != null) report.put("stages", stages.summary());
                report.put("contract", contract);
                report.put("feed", feed.values());

                if (export != null) {
                    System.out.println("waiting for the snapshots to hold every product, to export the job's vectors ...");
                    Map<String, Object> snapshots = churn.checkSnapshots(a.timeoutMs());
                    report.put("snapshots", snapshots);
                    int exported = exportVectors(run, catalogue, a.products(), export);
                    report.put("exported_vectors", exported);
                    report.put("vectors_file", export.toAbsolutePath().toString());
                }
            }
        }
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
        System.out.println(json);
        if (a.report() != null) {
            if (a.report().getParent() != null) Files.createDirectories(a.report().getParent());
            Files.writeString(a.report(), json);
            System.out.println("report written to " + a.report().toAbsolutePath());
        }
        System.exit(0);
    }

    /** Dead letters by stage, reason and the start of the message (e.g. fetch timeouts on a loaded machine). */
    static Map<String, Integer> deadLetterReasons(NeighbourListCollector deadLetters) {
        AvroRecordCodec<DeadLetter> codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        Map<String, Integer> reasons = new TreeMap<>();
        for (String key : deadLetters.keysSeen()) {
            for (NeighbourListCollector.Seen seen : deadLetters.history(key)) {
                String reason;
                try {
                    DeadLetter letter = codec.decode(seen.value());
                    String message = letter.getErrorMessage() == null ? "" : letter.getErrorMessage().toString();
                    reason = letter.getStage() + " " + letter.getReason() + ": " + message.substring(0, Math.min(60, message.length()));
                } catch (InvalidRecordException | RuntimeException e) {
                    reason = "undecodable: " + e.getClass().getSimpleName();
                }
                reasons.merge(reason, 1, Integer::sum);
            }
        }
        return reasons;
    }

    /** CPU time of this process (all its threads), in nanoseconds. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** How many of catalogue products 0..products-1 have a (non-tombstone) list now. */
    static int productsWithList(NeighbourListCollector lists, DemoCatalogue catalogue, int products) {
        int with = 0;
        for (int n = 0; n < products; n++) {
            List<NeighbourListCollector.Seen> history = lists.history(catalogue.productId(n));
            if (!history.isEmpty() && history.get(history.size() - 1).list() != null) with++;
        }
        return with;
    }

    /** When the newest record of the collector's topic became visible (0 if none did). */
    static long lastVisibleAt(NeighbourListCollector lists) {
        long last = 0;
        for (String id : lists.keysSeen()) {
            for (NeighbourListCollector.Seen seen : lists.history(id)) last = Math.max(last, seen.visibleAt());
        }
        return last;
    }

    /**
     * Writes the vector each product has in the job's latest snapshots, row n = catalogue product n
     * (n < products), as an N x d float32 {@code .npy}; fails when a product is missing.
     */
    private static int exportVectors(DemoRun run, DemoCatalogue catalogue, int products, Path file) throws Exception {
        SnapshotStore store = SnapshotStore.at(run.config().snapshotDir());
        float[][] rows = new float[products][];
        int shards = run.config().get(IndexerOptions.SHARDS);
        for (int shard = 0; shard < shards; shard++) {
            Optional<SnapshotManifest> latest = store.latest(shard);
            if (latest.isEmpty()) throw new IllegalStateException("shard " + shard + " has no snapshot in " + run.config().snapshotDir());
            try (ShardSnapshot snapshot = ShardSnapshot.load(store, latest.get())) {
                for (ShardSnapshot.SnapshotProduct product : snapshot.products(0, Integer.MAX_VALUE)) {
                    int n = catalogue.productNumber(product.productId());
                    if (n >= 0 && n < products) rows[n] = product.vector();
                }
            }
        }
        for (int n = 0; n < products; n++) {
            if (rows[n] == null) {
                throw new IllegalStateException("product " + catalogue.productId(n) + " is in no snapshot of " + run.config().snapshotDir());
            }
        }
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        NpyFiles.writeFloatMatrix(file, rows);
        return rows.length;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
