package dev.similarity.flink.demo;

import dev.similarity.flink.IndexerOptions;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotStore;

import dev.similarity.kafka.local.LocalKafkaBroker;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The README's first command ({@code scripts/demo}): a local Kafka broker, the Fashion-MNIST
 * catalogue served over HTTP on loopback, the indexer on a local Flink cluster with its web UI, N
 * products fed, and a summary of what came out.
 */
public final class LocalDemo {

    private LocalDemo() {}

    public static void main(String[] args) throws Exception {
        java.util.List<String> rest = new java.util.ArrayList<>(java.util.List.of(args));
        ChangeStream.Options changeOptions = ChangeStream.extract(rest);
        DemoArgs a = DemoArgs.parse(rest.toArray(new String[0]), "scripts/demo [--products N] [--rate EVENTS_PER_S] "
                + "[--change-rate EVENTS_PER_S (50; 0: none)] [--change-duration SECONDS (30)] [--exit] [--report FILE] "
                + "[--web-ui-port 8081] [--kafka-port 0] [--work DIR] [--embedded-events] [--set option.key=value ...]\n"
                + "  resuming a run: --bootstrap-servers 127.0.0.1:9092 --run-name NAME --from-savepoint PATH --first N\n"
                + "  on a Flink cluster: --cluster http://127.0.0.1:8081 [--bootstrap-servers 127.0.0.1:9092] [--run-name NAME] "
                + "[--from-savepoint PATH] [--parallelism P] [--first N]");
        if (a.cluster().url() != null) {
            ClusterDemo.run(a);
            return;
        }
        Path work = a.work().resolve("demo");
        DemoArgs.Cluster c = a.cluster();
        DemoCatalogue catalogue = new DemoCatalogue();
        if (c.first() + a.products() > catalogue.capacity()) {
            throw new IllegalArgumentException("--first + --products is more than the demo catalogue's " + catalogue.capacity() + " images");
        }
        Map<String, String> settings = new HashMap<>(a.settings());
        if (c.fromSavepoint() != null) {
            // Flink's own option, given to the job like any other: the in-JVM job resumes from it.
            settings.put("execution.state-recovery.path", c.fromSavepoint());
        }
        // Without --bootstrap-servers: a fresh broker in a temporary folder (deleted when it stops), so a run
        // cannot be resumed; with it (e.g. scripts/kafka-local start), topics and offsets outlive the demo.
        LocalKafkaBroker ownBroker = null;
        String bootstrap = c.bootstrapServers();
        if (bootstrap == null) {
            System.out.println("starting Kafka (KRaft) ...");
            ownBroker = LocalKafkaBroker.builder().port(a.kafkaPort()).build().start();
            bootstrap = ownBroker.bootstrapServers();
        }
        String runName = c.runName() != null ? c.runName() : "demo-" + System.currentTimeMillis();
        try (LocalKafkaBroker closedLast = ownBroker;
             DemoImageServer images = new DemoImageServer(catalogue, 0)) {
            System.out.println("Kafka at " + bootstrap + "; demo images at " + images.baseUrl() + "/images/<n>.png");
            try (DemoRun run = new DemoRun(catalogue, images, bootstrap, work, runName, a.webUiPort(), settings)) {
                System.out.println("Flink web UI: http://localhost:" + a.webUiPort() + "  (job " + run.job().getJobID()
                        + (c.fromSavepoint() == null ? ", fresh state" : ", resumed from " + c.fromSavepoint()) + ")");
                System.out.println("index snapshots: " + run.config().snapshotDir()
                        + "  (search them: scripts/search-service --store " + run.config().snapshotDir() + ")");
                int loaded = c.first() + a.products();
                ChangeStream.Plan plan = changeOptions.events() > 0 ? ChangeStream.plan(changeOptions, loaded, catalogue.capacity()) : null;
                if (a.embeddedEvents()) {
                    // Every image the bootstrap and the change phase show (each addition and image change a new one).
                    int shown = loaded + (plan == null ? 0 : plan.additions() + plan.imageChanges());
                    run.embeddedEvents(CatalogueEmbeddings.load(catalogue, run.config().modelDir(), shown, a.work().resolve("embeddings"), true));
                }
                System.out.printf("bootstrap: feeding %,d products (catalogue numbers %,d..%,d)%s ...%n", a.products(), c.first(),
                        loaded - 1, a.rate() > 0 ? " at " + a.rate() + " events/s" : " as fast as the job takes them");
                RunSummary summary = run.feedAndMeasure(c.first(), a.products(), a.rate(), a.timeoutMs(), true);
                // Then what the retailer lives with: a steady mix of changes, their freshness apart from the bootstrap's queueing.
                Map<String, Object> changes = null;
                int live = c.first() + (int) summary.get("products_with_list");
                if (plan != null && live < loaded) {
                    System.out.printf("the bootstrap did not finish (%,d of %,d products have a list): no change phase%n", live - c.first(), a.products());
                } else if (plan != null) {
                    CatalogueChurn churn = new CatalogueChurn(run, catalogue, images);
                    churn.assumeLoaded(0, loaded);
                    System.out.printf("streaming changes for %d s at %s events/s: %,d additions, %,d image changes, %,d removals ...%n",
                            changeOptions.durationSeconds(), changeOptions.rate(), plan.additions(), plan.imageChanges(), plan.removals());
                    changes = ChangeStream.run(churn, plan, a.timeoutMs());
                    summary.values().put("changes", changes);
                    live += plan.additions() - plan.removals();
                }
                summary.values().put("topics", Map.of("catalogue", run.config().get(IndexerOptions.CATALOGUE_TOPIC),
                        "neighbour_lists", run.config().get(IndexerOptions.NEIGHBOUR_TOPIC)));
                System.out.print(summary.toText());
                System.out.print(ChangeStream.text(summary.values(), changes));
                if (a.report() != null) {
                    summary.writeJson(a.report());
                    System.out.println("report written to " + a.report().toAbsolutePath());
                }
                boolean complete = summary.get("products_with_list").equals(a.products());
                if (a.exit()) {
                    // Snapshots trail the lists by up to snapshot.interval: stop once they hold the catalogue.
                    awaitSnapshotsHolding(run, live);
                    System.exit(complete ? 0 : 1);
                }
                System.out.println("\nThe job keeps running: explore it at http://localhost:" + a.webUiPort()
                        + " (Kafka " + bootstrap + "). Ctrl-C stops everything.");
                if (ownBroker == null) {
                    System.out.printf("Its checkpoints are kept in %s: after Ctrl-C, resume from the newest with%n"
                            + "  scripts/demo --bootstrap-servers %s --run-name %s --from-savepoint %s/<chk-N> --first %d --products N%n",
                            work.resolve("checkpoints").resolve(run.job().getJobID().toString()).toAbsolutePath(), bootstrap, runName,
                            work.resolve("checkpoints").resolve(run.job().getJobID().toString()).toAbsolutePath().toUri(),
                            c.first() + a.products());
                }
                Thread.currentThread().join();
            }
        }
    }

    private static void awaitSnapshotsHolding(DemoRun run, int products) throws Exception {
        SnapshotStore store = SnapshotStore.at(run.config().snapshotDir());
        int shards = run.config().get(IndexerOptions.SHARDS);
        long deadline = System.currentTimeMillis() + 2 * run.config().get(IndexerOptions.SNAPSHOT_INTERVAL).toMillis() + 30_000;
        int held = 0;
        while (System.currentTimeMillis() < deadline) {
            // Products, not documents: a shard also holds image nodes and the members behind shared images.
            held = 0;
            for (int shard = 0; shard < shards; shard++) {
                java.util.Optional<SnapshotManifest> latest = store.latest(shard);
                if (latest.isEmpty()) continue;
                try (ShardSnapshot snapshot = ShardSnapshot.load(store, latest.get())) {
                    held += snapshot.products(0, Integer.MAX_VALUE).size();
                }
            }
            if (held >= products) {
                System.out.printf("index snapshots hold all %,d products%n", held);
                return;
            }
            Thread.sleep(2_000);
        }
        System.out.printf("index snapshots hold %,d of %,d products (more are published while a job runs)%n", held, products);
    }
}
