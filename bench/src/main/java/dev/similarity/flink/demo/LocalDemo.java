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
                + "[--web-ui-port 8081] [--kafka-port 0] [--work DIR] [--set option.key=value ...]\n"
                + "  on a Flink cluster: --cluster http://127.0.0.1:8081 [--bootstrap-servers 127.0.0.1:9092] [--run-name NAME] "
                + "[--from-savepoint PATH] [--parallelism P] [--first N]");
        if (a.cluster().url() != null) {
            ClusterDemo.run(a);
            return;
        }
        Path work = a.work().resolve("demo");
        DemoCatalogue catalogue = new DemoCatalogue();
        if (a.products() > catalogue.capacity()) {
            throw new IllegalArgumentException("--products " + a.products() + " is more than the demo catalogue's " + catalogue.capacity() + " images");
        }
        System.out.println("starting Kafka (KRaft) ...");
        // A fresh broker in a temporary folder every run (deleted when it stops): each run uses its own
        // topics, and old ones would only pile up.
        try (LocalKafkaBroker broker = LocalKafkaBroker.builder().port(a.kafkaPort()).build();
             DemoImageServer images = new DemoImageServer(catalogue, 0)) {
            broker.start();
            System.out.println("Kafka at " + broker.bootstrapServers() + "; demo images at " + images.baseUrl() + "/images/<n>.png");
            String runName = "demo-" + System.currentTimeMillis();
            Map<String, String> settings = new HashMap<>(a.settings());
            try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, runName, a.webUiPort(), settings)) {
                System.out.println("Flink web UI: http://localhost:" + a.webUiPort() + "  (job " + run.job().getJobID() + ")");
                System.out.println("index snapshots: " + run.config().snapshotDir()
                        + "  (search them: scripts/search-service --store " + run.config().snapshotDir() + ")");
                System.out.printf("bootstrap: feeding the catalogue's %,d products%s ...%n", a.products(),
                        a.rate() > 0 ? " at " + a.rate() + " events/s" : " as fast as the job takes them");
                RunSummary summary = run.feedAndMeasure(0, a.products(), a.rate(), a.timeoutMs(), true);
                // Then what the retailer lives with: a steady mix of changes, their freshness apart from the bootstrap's queueing.
                Map<String, Object> changes = null;
                int live = (int) summary.get("products_with_list");
                if (changeOptions.events() > 0 && live < a.products()) {
                    System.out.printf("the bootstrap did not finish (%,d of %,d products have a list): no change phase%n", live, a.products());
                } else if (changeOptions.events() > 0) {
                    CatalogueChurn churn = new CatalogueChurn(run, catalogue, images);
                    churn.assumeLoaded(0, a.products());
                    ChangeStream.Plan plan = ChangeStream.plan(changeOptions, a.products(), catalogue.capacity());
                    System.out.printf("streaming changes for %d s at %s events/s: %,d additions, %,d image changes, %,d removals ...%n",
                            changeOptions.durationSeconds(), changeOptions.rate(), plan.additions(), plan.imageChanges(), plan.removals());
                    changes = ChangeStream.run(churn, plan, a.timeoutMs());
                    summary.values().put("changes", changes);
                    live += plan.additions() - plan.removals();
                }
                summary.values().put("topics", Map.of("catalogue", run.config().get(dev.similarity.flink.IndexerOptions.CATALOGUE_TOPIC),
                        "neighbour_lists", run.config().get(dev.similarity.flink.IndexerOptions.NEIGHBOUR_TOPIC)));
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
                        + " (Kafka " + broker.bootstrapServers() + "). Ctrl-C stops everything.");
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
