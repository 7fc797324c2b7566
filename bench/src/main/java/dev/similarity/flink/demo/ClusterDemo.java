package dev.similarity.flink.demo;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.flink.local.FlinkRestClient;
import dev.similarity.kafka.local.LocalKafkaBroker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code scripts/demo --cluster URL}: the demo catalogue fed to the indexer running on a Flink cluster.
 * The job jar is uploaded and run through the cluster's REST API exactly as the web UI's "Submit New
 * Job" page does; the job keeps running when the demo exits. With {@code --run-name} kept across runs
 * (topics, consumer group, transactional ids) and {@code --from-savepoint}, a job stopped with a
 * savepoint resumes where it stopped, at any parallelism.
 */
final class ClusterDemo {

    private ClusterDemo() {}

    static void run(DemoArgs a) throws Exception {
        DemoArgs.Cluster c = a.cluster();
        DemoCatalogue catalogue = new DemoCatalogue();
        if (c.first() + a.products() > catalogue.capacity()) {
            throw new IllegalArgumentException("--first + --products is more than the demo catalogue's " + catalogue.capacity() + " images");
        }
        Path jobJar = jobJar();
        Path work = a.work().resolve("cluster-demo");
        String runName = c.runName() != null ? c.runName() : "demo-" + System.currentTimeMillis();
        Map<String, String> settings = new HashMap<>(a.settings());
        // The job's main runs in the JobManager and its tasks in the TaskManagers: paths must be absolute.
        settings.putIfAbsent(IndexerOptions.MODEL_DIR.key(), EmbeddingModelDescriptor.findCommitted(Path.of("")).orElseThrow(
                () -> new IllegalStateException("no committed model under models/; run from the project folder")).toAbsolutePath().toString());
        FlinkRestClient rest = new FlinkRestClient(c.url());
        LocalKafkaBroker ownBroker = null;
        String bootstrap = c.bootstrapServers();
        if (bootstrap == null) {
            System.out.println("starting Kafka (KRaft) ...");
            ownBroker = LocalKafkaBroker.builder().port(a.kafkaPort()).build().start();
            bootstrap = ownBroker.bootstrapServers();
        }
        // The job fetches images from this process, on a new port each run: a resumed job is given the new
        // origin (fetch.trusted-origins), and fetches fail once this command ends.
        try (DemoImageServer images = new DemoImageServer(catalogue, 0)) {
            DemoRun run = new DemoRun(catalogue, images, bootstrap, work, runName, settings,
                    config -> ClusterJobClient.submit(rest, jobJar, config, c.parallelism(), c.fromSavepoint()));
            ClusterJobClient job = (ClusterJobClient) run.job();
            System.out.printf("job %s submitted to %s (%s); web UI: %s/#/job/running/%s/overview%n", job.id(), c.url(),
                    c.fromSavepoint() == null ? "fresh state" : "resumed from " + c.fromSavepoint(), c.url(), job.id());
            System.out.printf("feeding %,d products (catalogue numbers %,d..%,d) to %s ...%n", a.products(), c.first(),
                    c.first() + a.products() - 1, run.config().get(IndexerOptions.CATALOGUE_TOPIC));
            if (a.embeddedEvents()) {
                run.embeddedEvents(CatalogueEmbeddings.load(catalogue, Path.of(settings.get(IndexerOptions.MODEL_DIR.key())),
                        c.first() + a.products(), a.work().resolve("embeddings"), true));
            }
            RunSummary summary = run.feedAndMeasure(c.first(), a.products(), a.rate(), a.timeoutMs(), true);
            System.out.print(summary.toText());
            if (a.report() != null) summary.writeJson(a.report());
            System.out.printf("%nThe job keeps running on the cluster. Stop it with a savepoint:%n"
                    + "  scripts/stop-job --cluster %s --job %s --savepoint-dir %s%n"
                    + "then resume it, e.g. at parallelism 3:%n"
                    + "  scripts/demo --cluster %s --bootstrap-servers %s --run-name %s --from-savepoint <path> --parallelism 3 --first %d%n",
                    c.url(), job.id(), work.resolve("savepoints").toAbsolutePath().toUri(), c.url(), bootstrap, runName,
                    c.first() + a.products());
            if (!a.exit()) {
                System.out.println("Images are served from this process: Ctrl-C stops it (and the job's further fetches).");
                Thread.currentThread().join();
            }
            run.detach();
            run.close();
        } finally {
            if (ownBroker != null) ownBroker.close();
        }
    }

    /** flink-jobs/target/flink-jobs-*-job.jar, as {@code mvn package} builds it. */
    static Path jobJar() throws IOException {
        Path target = Path.of("flink-jobs", "target");
        if (!Files.isDirectory(target)) target = Path.of("..", "flink-jobs", "target");
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(p -> p.getFileName().toString().matches("flink-jobs-.*-job\\.jar")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no job jar in " + Path.of("flink-jobs/target").toAbsolutePath()
                            + ": build it with mvn -pl flink-jobs -am package")).toAbsolutePath();
        }
    }
}
