package dev.similarity.flink.demo;

import dev.similarity.flink.IndexerOptions;
import dev.similarity.search.SearchService;
import dev.similarity.search.bench.SearchLoad;
import dev.similarity.search.bench.SearchLoadResult;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.similarity.kafka.local.LocalKafkaBroker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code scripts/bench-churn}: load N products, then a shuffled stream of additions, image changes and
 * removals; report the neighbour-list contract after the job caught up and the freshness of direct and
 * reverse updates. With {@code --shared-image-fraction F} that fraction of the products show one
 * placeholder picture (loaded, added, and as the new image of changes; products showing it change away).
 */
public final class ChurnBenchmark {

    private ChurnBenchmark() {}

    private static void awaitAllShardsServed(SearchService search, int shards, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (search.servedCheckpoints().size() < shards) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the search service serves " + search.servedCheckpoints().size() + " of "
                        + shards + " shards after " + timeout.toSeconds() + " s: are snapshots being published?");
            }
            search.pollNow();
            Thread.sleep(500);
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> churnArgs = new LinkedHashMap<>(Map.of("--additions", "5000", "--changes", "2000", "--removals", "2000",
                "--search-clients", "2", "--search-seconds", "30", "--shared-image-fraction", "0"));
        java.util.List<String> rest = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (churnArgs.containsKey(args[i]) && i + 1 < args.length) {
                churnArgs.put(args[i], args[++i]);
            } else {
                rest.add(args[i]);
            }
        }
        DemoArgs a = DemoArgs.parse(rest.toArray(new String[0]), "scripts/bench-churn [--products N] [--additions A] [--changes C] "
                + "[--removals R] [--shared-image-fraction F] [--search-clients C] [--search-seconds S] [--rate EVENTS_PER_S] "
                + "[--embedded-events] [--report FILE] [--set option.key=value ...]");
        int additions = Integer.parseInt(churnArgs.get("--additions"));
        int changes = Integer.parseInt(churnArgs.get("--changes"));
        int removals = Integer.parseInt(churnArgs.get("--removals"));
        double sharedImageFraction = Double.parseDouble(churnArgs.get("--shared-image-fraction"));
        int searchClients = Integer.parseInt(churnArgs.get("--search-clients"));
        Duration searchTime = Duration.ofSeconds(Long.parseLong(churnArgs.get("--search-seconds")));
        Path work = a.work().resolve("bench-churn");
        String runName = "churn-" + System.currentTimeMillis();
        Map<String, String> settings = new LinkedHashMap<>(a.settings());
        // A store of its own per run: the search figures must come from this run's snapshots only.
        settings.putIfAbsent(IndexerOptions.SNAPSHOT_DIR.key(), work.resolve("snapshots").resolve(runName).toAbsolutePath().toUri().toString());
        DemoCatalogue catalogue = new DemoCatalogue();
        Map<String, Object> report = new LinkedHashMap<>();
        try (LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(a.kafkaPort()).build().start();
             DemoImageServer images = new DemoImageServer(catalogue, 0);
             DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, runName, -1, settings)) {
            CatalogueChurn churn = new CatalogueChurn(run, catalogue, images, sharedImageFraction);
            if (a.embeddedEvents()) {
                // Every image the load and the churn show: products 0 .. products + additions + changes - 1.
                CatalogueEmbeddings embeddings = CatalogueEmbeddings.load(catalogue, run.config().modelDir(),
                        a.products() + additions + changes, a.work().resolve("embeddings"), true);
                run.embeddedEvents(embeddings);
                report.put("embedded_events", embeddings.report());
            }
            System.out.printf("loading %,d products ...%n", a.products());
            RunSummary load = churn.load(a.products(), a.timeoutMs());
            report.put("load", load.values());
            // The search service serves the job's snapshots and is queried while the churn runs, so its
            // figures are taken while snapshots swap (and while the job competes for the cores).
            System.out.println("waiting for the snapshots to hold the loaded catalogue ...");
            Map<String, Object> loadedSnapshots = churn.checkSnapshots(a.timeoutMs());
            if ((long) loadedSnapshots.get("snapshot_missing_products") > 0) {
                throw new IllegalStateException("the snapshots do not hold the loaded catalogue: " + loadedSnapshots);
            }
            try (SearchService search = SearchService.builder().store(run.config().snapshotDir()).port(0)
                    .pollInterval(Duration.ofSeconds(1)).build().start()) {
                awaitAllShardsServed(search, run.config().get(IndexerOptions.SHARDS), Duration.ofMinutes(2));
                List<String> queried = churn.keptByChurn(changes, removals, 42);
                AtomicReference<Object> searchOutcome = new AtomicReference<>();
                Thread searching = new Thread(() -> {
                    try {
                        searchOutcome.set(SearchLoad.run(search.baseUri(), queried, searchClients, searchTime, 10));
                    } catch (Exception | Error e) {
                        searchOutcome.set(e);
                    }
                }, "churn-search-load");
                long swapsBefore = search.swaps();
                searching.start();
                long churnStart = System.currentTimeMillis();
                System.out.printf("churn: %,d additions, %,d image changes, %,d removals; %d search clients for %d s ...%n",
                        additions, changes, removals, searchClients, searchTime.toSeconds());
                churn.churn(additions, changes, removals, a.rate(), 42);
                searching.join();
                if (!(searchOutcome.get() instanceof SearchLoadResult searched)) {
                    throw new IllegalStateException("the search load failed", (Throwable) searchOutcome.get());
                }
                System.out.println("search while churning: " + searched.summary());
                report.put("search_qps", Math.round(searched.qps() * 10) / 10.0);
                report.put("search_p50_ms", searched.p50Ms());
                report.put("search_p99_ms", searched.p99Ms());
                report.put("failed_requests", searched.failedRequests());
                report.put("search_requests", searched.requests());
                report.put("search_failure_samples", searched.failureSamples());
                report.put("snapshot_swaps_during_search", search.swaps() - swapsBefore);
                churn.awaitQuiet(10_000, a.timeoutMs());
                report.put("churn_started_at", churnStart);
            }
            long churnStart = (long) report.remove("churn_started_at");
            long churnSeconds = (System.currentTimeMillis() - churnStart) / 1000;
            System.out.println("checking the contract against the exact top-k of the live catalogue ...");
            report.put("products", a.products());
            report.put("additions", additions);
            report.put("changes", changes);
            report.put("removals", removals);
            report.put("shared_image_fraction", sharedImageFraction);
            report.put("products_showing_the_placeholder", churn.placeholderProducts());
            report.putAll(churn.checkContract());
            report.putAll(churn.checkSnapshots(120_000));
            report.putAll(churn.freshness(churnStart));
            report.put("churn_seconds_until_quiet", churnSeconds);
            report.put("lists_published", run.lists().records());
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
}
