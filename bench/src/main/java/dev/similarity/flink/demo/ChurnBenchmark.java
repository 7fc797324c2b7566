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
import dev.similarity.flink.local.FlinkRestClient;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code scripts/bench-churn}: load N products, then a stream of additions, image changes and removals;
 * report the neighbour-list contract after the job caught up and the freshness of direct and reverse
 * updates. With {@code --shared-image-fraction F} that fraction of the products show one placeholder
 * picture (loaded, added, and as the new image of changes; products showing it change away).
 *
 * <p>Contract checks during the churn, as the NeurIPS'23 streaming track's runbooks take them: the churn
 * is fed in {@code --checks} steps; after the load and after each step the feeding pauses until the job
 * has caught up with everything fed (every fed product's latest committed record reflects its last
 * event, then no list record for a few checkpoint intervals), and the lists committed at that moment are
 * checked against the exact top-k of the live catalogue at that moment (overlap for a deterministic
 * sample of {@code --check-sample} live products against every live image; counts over all lists). The
 * report's {@code contract_checks} holds one entry per check, with the time it waited and the job's
 * latest checkpoint (size, duration) then. {@code --order clustered} feeds the loaded and the added
 * products one category at a time (the track's clustered runbook, which tests drift).
 */
public final class ChurnBenchmark {

    /** Up to this many live products the final check computes the overlap for every one of them. */
    static final int FULL_FINAL_CHECK_UP_TO = 50_000;

    private ChurnBenchmark() {}

    /**
     * The contract checks of one run: each waits until the job caught up with everything fed, checks
     * the committed lists against the exact top-k of the live catalogue, and records the job's latest
     * completed checkpoint (its full size and duration: what the state costs per product).
     */
    static final class ContractChecks {
        private final CatalogueChurn churn;
        /** The job now running (a restored one after {@link #jobRestarted}), and its REST API. */
        private DemoRun run;
        private FlinkRestClient rest;
        private final int sample;
        private final long timeoutMs;
        private final long quietMs;
        private final List<Map<String, Object>> entries = new java.util.ArrayList<>();
        private long churnStartedAt = -1;

        ContractChecks(CatalogueChurn churn, DemoRun run, int restPort, int sample, long timeoutMs) {
            this.churn = churn;
            jobRestarted(run, restPort);
            this.sample = sample;
            this.timeoutMs = timeoutMs;
            // Lists become visible when a checkpoint commits: three intervals without one means the
            // reverse updates of the fed events are committed too.
            this.quietMs = Math.max(3_000, 3 * run.config().get(IndexerOptions.CHECKPOINT_INTERVAL).toMillis());
        }

        /** The checks read the checkpoints of {@code restored} from now on. */
        void jobRestarted(DemoRun restored, int restPort) {
            this.run = restored;
            this.rest = new FlinkRestClient("http://127.0.0.1:" + restPort);
        }

        DemoRun run() {
            return run;
        }

        void startChurn() {
            churnStartedAt = System.currentTimeMillis();
        }

        /** Check {@code step} of {@code steps} (0: after the load, before the churn). */
        void take(int step, int steps) throws Exception {
            CatalogueChurn.CaughtUp caughtUp = churn.awaitCaughtUp(quietMs, timeoutMs);
            // Every product having a list is not enough: a batch's last steps still send reverse updates.
            long idleWaitStarted = System.currentTimeMillis();
            boolean shardsIdle = awaitShardsIdle(Math.max(1, timeoutMs - caughtUp.waitedMs()));
            long idleWaitMs = System.currentTimeMillis() - idleWaitStarted;
            if (idleWaitMs > IDLE_HELD_MS + 2_000) churn.awaitQuiet(quietMs, Math.max(1, timeoutMs - caughtUp.waitedMs() - idleWaitMs));
            long at = System.currentTimeMillis();
            Map<String, Object> contract = churn.checkContract(sample);
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("step", step);
            entry.put("elapsed_s", churnStartedAt < 0 ? 0.0 : Math.round((at - churnStartedAt) / 100.0) / 10.0);
            entry.put("live_products", contract.get("live_products"));
            entry.put("mean_overlap", contract.get("mean_overlap"));
            entry.put("lists_naming_removed", contract.get("lists_naming_removed"));
            entry.put("overlap_sample", contract.get("overlap_sample"));
            entry.put("caught_up", caughtUp.caughtUp() && shardsIdle);
            entry.put("shards_idle_wait_s", Math.round(idleWaitMs / 100.0) / 10.0);
            entry.put("caught_up_wait_s", Math.round((idleWaitMs + caughtUp.waitedMs()) / 100.0) / 10.0);
            entry.put("products_behind", caughtUp.behind());
            for (String key : List.of("missing_tombstones", "missing_lists", "lists_behind_current_version", "lists_of_wrong_size",
                    "lists_naming_themselves", "lists_repeating_an_image", "mean_overlap_unshared_images", "missing_neighbours")) {
                entry.put(key, contract.get(key));
            }
            entry.put("check_s", Math.round((System.currentTimeMillis() - at) / 100.0) / 10.0);
            entry.put("jvm_heap_used_mb_after_gc", heapUsedAfterGcMb());
            // Resident memory, the machine's limit at 10^6 (the JVM with the job's RocksDB instances; the broker is apart).
            entry.put("process_rss_mb", processMemoryMb("VmRSS"));
            entry.put("process_peak_rss_mb", processMemoryMb("VmHWM"));
            entry.putAll(latestCheckpoint());
            entry.put("reverse_update_cost", reverseUpdateCost());
            entries.add(entry);
            System.out.printf("contract check %d/%d at %.1f s: %,d live products, mean overlap %s over %,d sampled, %s lists naming "
                            + "removed products; waited %.1f s for the job to catch up%s%n", step, steps, (double) entry.get("elapsed_s"),
                    (int) contract.get("live_products"), contract.get("mean_overlap"), (int) contract.get("overlap_sample"),
                    contract.get("lists_naming_removed"), (idleWaitMs + caughtUp.waitedMs()) / 1000.0,
                    !shardsIdle ? " and gave up with a batch still searched" :
                    caughtUp.caughtUp() ? "" : " and gave up with " + caughtUp.behind() + " products behind");
        }

        /**
         * Waits until no shard searches a batch or holds messages: the shard operator's
         * {@code batchPendingImages} and {@code batchHeldMessages}, summed over its subtasks, both read 0
         * for {@link #IDLE_HELD_MS} (longer than the REST API's metric cache, 10 s by default). Until then
         * the lists may still lack a batch's reverse updates, although every product has a list. Returns
         * false when {@code timeoutMs} passed first.
         */
        private boolean awaitShardsIdle(long timeoutMs) throws InterruptedException {
            long deadline = System.currentTimeMillis() + timeoutMs;
            long idleSince = -1;
            while (System.currentTimeMillis() < deadline) {
                Map<String, Double> batch = shardMetricSums(List.of("batchPendingImages", "batchHeldMessages"));
                // No reading (the job restarting, the metrics not yet reported) counts as busy.
                boolean idle = batch.size() == 2 && batch.values().stream().allMatch(v -> v == 0.0);
                long now = System.currentTimeMillis();
                idleSince = !idle ? -1 : idleSince < 0 ? now : idleSince;
                if (idleSince >= 0 && now - idleSince >= IDLE_HELD_MS) return true;
                Thread.sleep(1_000);
            }
            return false;
        }

        static final long IDLE_HELD_MS = 11_000;

        /**
         * The sums over all subtasks of the job's operator metrics named {@code names} (the metric's last
         * name part), from the REST API; a name no subtask reports is absent, and so is everything when
         * the REST API does not answer.
         */
        private Map<String, Double> shardMetricSums(List<String> names) {
            Map<String, Double> sums = new LinkedHashMap<>();
            try {
                ObjectMapper json = new ObjectMapper();
                String jobId = run.job().getJobID().toString();
                for (com.fasterxml.jackson.databind.JsonNode vertex : json.readTree(rest.get("/jobs/" + jobId)).path("vertices")) {
                    String base = "/jobs/" + jobId + "/vertices/" + vertex.path("id").asText() + "/subtasks/metrics";
                    List<String> wanted = new java.util.ArrayList<>();
                    for (com.fasterxml.jackson.databind.JsonNode metric : json.readTree(rest.get(base))) {
                        String id = metric.path("id").asText();
                        for (String name : names) {
                            if (id.endsWith("." + name)) wanted.add(id);
                        }
                    }
                    if (wanted.isEmpty()) continue;
                    for (com.fasterxml.jackson.databind.JsonNode metric : json.readTree(rest.get(base + "?get=" + String.join(",", wanted) + "&agg=sum"))) {
                        String id = metric.path("id").asText();
                        sums.merge(id.substring(id.lastIndexOf('.') + 1), metric.path("sum").asDouble(), Double::sum);
                    }
                }
            } catch (Exception e) {
                return Map.of();
            }
            return sums;
        }

        /** Reverse-update counters (summed over the shard subtasks) at the previous check; reset when the job restarts. */
        private Map<String, Double> reverseCountersBefore = Map.of();

        /**
         * What reverse updates cost per new image searched on a shard since the previous check (the shard
         * operator's counters, summed over its subtasks): index searches, candidates sent, low-bar nodes
         * checked; and the low-bar nodes held now. Flat per image as the catalogue grows is the claim.
         */
        private Map<String, Object> reverseUpdateCost() {
            Map<String, Object> out = new LinkedHashMap<>();
            try {
                Map<String, Double> now = shardMetricSums(List.of("reverseImages", "reverseSearches", "reverseCandidates", "lowBarChecks", "lowBarNodes"));
                if (now.isEmpty()) throw new IllegalStateException("the job's REST API gave no reverse-update metrics");
                double images = now.getOrDefault("reverseImages", 0.0);
                boolean restarted = images < reverseCountersBefore.getOrDefault("reverseImages", 0.0);
                Map<String, Double> before = restarted ? Map.of() : reverseCountersBefore;
                double newImages = images - before.getOrDefault("reverseImages", 0.0);
                out.put("shard_image_searches", (long) newImages);
                for (String name : List.of("reverseSearches", "reverseCandidates", "lowBarChecks")) {
                    double delta = now.getOrDefault(name, 0.0) - before.getOrDefault(name, 0.0);
                    out.put(name + "_per_image", newImages == 0 ? null : Math.round(delta / newImages * 100) / 100.0);
                }
                out.put("lowBarNodes", now.getOrDefault("lowBarNodes", 0.0).longValue());
                reverseCountersBefore = now;
            } catch (Exception e) {
                out.put("error", String.valueOf(e));
            }
            return out;
        }

        /** The job's latest completed checkpoint from its REST API: full state bytes, bytes written, duration. */
        private Map<String, Object> latestCheckpoint() {
            Map<String, Object> out = new LinkedHashMap<>();
            try {
                com.fasterxml.jackson.databind.JsonNode latest = new ObjectMapper()
                        .readTree(rest.get("/jobs/" + run.job().getJobID() + "/checkpoints")).path("latest").path("completed");
                if (latest.isObject()) {
                    out.put("checkpoint_id", latest.path("id").asLong());
                    out.put("checkpoint_state_bytes", latest.path("state_size").asLong());
                    out.put("checkpoint_written_bytes", latest.path("checkpointed_size").asLong());
                    out.put("checkpoint_duration_ms", latest.path("end_to_end_duration").asLong());
                }
            } catch (Exception e) {
                out.put("checkpoint_error", String.valueOf(e));
            }
            return out;
        }

        /**
         * Heap in use after a full collection, in MB: the mini-cluster's job (every operator, the shards
         * included) and this benchmark's own bookkeeping (lists seen, vectors) together; an upper bound
         * on what the job holds.
         */
        private static long heapUsedAfterGcMb() {
            System.gc();
            return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / (1024 * 1024);
        }

        /** A memory figure of this process from /proc/self/status ({@code VmRSS}, {@code VmHWM}: resident now, at most), in MB; null where there is none. */
        private static Long processMemoryMb(String field) {
            try {
                for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                    if (line.startsWith(field + ":")) {
                        return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim()) / 1024;
                    }
                }
            } catch (java.io.IOException | RuntimeException e) {
                return null; // not Linux, or a format this does not know: the report says nothing rather than something wrong
            }
            return null;
        }

        List<Map<String, Object>> entries() {
            return entries;
        }

        /** Over the checks during and after the churn (step 0 left out): the track's "average recall over checkpoints". */
        Map<String, Object> summary() {
            java.util.DoubleSummaryStatistics overlaps = entries.stream().filter(e -> (int) e.get("step") > 0)
                    .map(e -> e.get("mean_overlap")).filter(Double.class::isInstance).mapToDouble(Double.class::cast).summaryStatistics();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("contract_check_sample", sample);
            out.put("mean_overlap_over_checks", overlaps.getCount() == 0 ? null : Math.round(overlaps.getAverage() * 10000) / 10000.0);
            out.put("min_overlap_over_checks", overlaps.getCount() == 0 ? null : overlaps.getMin());
            out.put("max_lists_naming_removed_over_checks", entries.stream().mapToLong(e -> (long) e.get("lists_naming_removed")).max().orElse(0));
            return out;
        }
    }

    /**
     * A crash mid-churn and the operator's recovery: the job is cancelled while it may still be behind (no
     * savepoint; its exactly-once transactions left open), and the same job, same topics and transactional
     * ids, starts again from its latest retained checkpoint. The churn's collectors keep reading the
     * neighbour topic throughout. Adds {@code restore_*} keys to the report.
     */
    private static DemoRun crashAndRestore(DemoRun crashed, int restPort, Map<String, Object> report) throws Exception {
        long started = System.currentTimeMillis();
        org.apache.flink.api.common.JobID jobId = crashed.job().getJobID();
        crashed.job().cancel().get(120, java.util.concurrent.TimeUnit.SECONDS);
        Path checkpoints = Path.of(java.net.URI.create(crashed.config().get(IndexerOptions.CHECKPOINT_DIR))).resolve(jobId.toString());
        Path latest = DemoRun.latestRetainedCheckpoint(checkpoints)
                .orElseThrow(() -> new IllegalStateException("no retained checkpoint of job " + jobId + " in " + checkpoints));
        System.out.printf("crashed the job (cancelled, no savepoint) mid-churn; restoring from %s ...%n", latest);
        String path = latest.toUri().toString();
        // The crashed run's collectors go on: a second pair would read the whole topic again (at 10^6, GBs of lists).
        DemoRun restored = crashed.relaunch(flink -> {
            flink.set(org.apache.flink.configuration.StateRecoveryOptions.SAVEPOINT_PATH, path);
            return DemoRun.localEnvironment(restPort).apply(flink);
        });
        report.put("restore_checkpoint", latest.toString());
        report.put("restore_submit_s", (System.currentTimeMillis() - started) / 1000.0);
        return restored;
    }

    /** The report for a person: the contract checks as a table, then the final contract. */
    @SuppressWarnings("unchecked")
    static String readableSummary(Map<String, Object> report) {
        StringBuilder out = new StringBuilder("\n==== churn benchmark summary ====\n");
        out.append(String.format("  %,d products loaded (%s order), then %,d additions, %,d image changes, %,d removals%n",
                (int) report.get("products"), report.get("order"), (int) report.get("additions"), (int) report.get("changes"),
                (int) report.get("removals")));
        out.append(String.format("  contract checks (overlap with the exact top-k for a sample of %s live products, 0 = all;"
                + " the job caught up before each):%n", report.get("contract_check_sample")));
        out.append(String.format("    %4s %9s %9s %12s %15s %9s %10s %12s%n", "step", "elapsed_s", "live", "mean_overlap",
                "naming_removed", "waited_s", "caught_up", "state_MB"));
        for (Map<String, Object> e : (List<Map<String, Object>>) report.get("contract_checks")) {
            Object state = e.get("checkpoint_state_bytes");
            out.append(String.format("    %4s %9s %,9d %12s %15s %9s %10s %12s%n", e.get("step"), e.get("elapsed_s"),
                    (int) e.get("live_products"), e.get("mean_overlap"), e.get("lists_naming_removed"), e.get("caught_up_wait_s"),
                    e.get("caught_up"), state == null ? "-" : String.format("%.1f", ((long) state) / 1e6)));
        }
        out.append(String.format("  over the checks during the churn: mean overlap %s, lowest %s%n", report.get("mean_overlap_over_checks"),
                report.get("min_overlap_over_checks")));
        out.append(String.format("  at the end: mean overlap %s over %s of %,d live products; %s lists naming removed, %s missing"
                        + " tombstones, %s missing lists; snapshots missing %s products%n", report.get("mean_overlap"),
                report.get("overlap_sample"), (int) report.get("live_products"), report.get("lists_naming_removed"),
                report.get("missing_tombstones"), report.get("missing_lists"), report.get("snapshot_missing_products")));
        return out.toString();
    }

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
                "--search-clients", "2", "--search-seconds", "30", "--shared-image-fraction", "0", "--order", "shuffled",
                "--checks", "5", "--check-sample", "2000", "--restore-at", "-1"));
        churnArgs.put("--final-check-sample", "-1");
        java.util.List<String> rest = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (churnArgs.containsKey(args[i]) && i + 1 < args.length) {
                churnArgs.put(args[i], args[++i]);
            } else {
                rest.add(args[i]);
            }
        }
        DemoArgs a = DemoArgs.parse(rest.toArray(new String[0]), "scripts/bench-churn [--products N] [--additions A] [--changes C] "
                + "[--removals R] [--shared-image-fraction F] [--order shuffled|clustered] [--checks N] [--check-sample S] [--final-check-sample S] "
                + "[--restore-at FRACTION] [--embedded-events] "
                + "[--search-clients C] [--search-seconds S] [--rate EVENTS_PER_S] [--report FILE] [--set option.key=value ...]");
        int additions = Integer.parseInt(churnArgs.get("--additions"));
        int changes = Integer.parseInt(churnArgs.get("--changes"));
        int removals = Integer.parseInt(churnArgs.get("--removals"));
        double sharedImageFraction = Double.parseDouble(churnArgs.get("--shared-image-fraction"));
        int searchClients = Integer.parseInt(churnArgs.get("--search-clients"));
        Duration searchTime = Duration.ofSeconds(Long.parseLong(churnArgs.get("--search-seconds")));
        CatalogueChurn.Order order = switch (churnArgs.get("--order")) {
            case "shuffled" -> CatalogueChurn.Order.SHUFFLED;
            case "clustered" -> CatalogueChurn.Order.CLUSTERED;
            default -> throw new IllegalArgumentException("--order is shuffled or clustered, got '" + churnArgs.get("--order") + "'");
        };
        int checks = Integer.parseInt(churnArgs.get("--checks"));
        int checkSample = Integer.parseInt(churnArgs.get("--check-sample"));
        if (checks < 1 || checkSample < 0) {
            throw new IllegalArgumentException("--checks must be at least 1 (the last is taken at the churn's end) and --check-sample at least 0 (0: all)");
        }
        double restoreAt = Double.parseDouble(churnArgs.get("--restore-at"));
        // The final check's sample (-1: every live product up to FULL_FINAL_CHECK_UP_TO, else --check-sample).
        int finalCheckSample = Integer.parseInt(churnArgs.get("--final-check-sample"));
        // The crash comes at a step's end, the one nearest the fraction asked for, never after the last.
        int restoreStep = restoreAt < 0 ? -1 : (int) Math.max(1, Math.min(checks - 1, Math.round(restoreAt * checks)));
        if (restoreAt >= 0 && (restoreAt > 1 || checks < 2)) {
            throw new IllegalArgumentException("--restore-at is a fraction of the churn between 0 and 1 and needs --checks 2 or more"
                    + " (the job is restored at the end of a step), got --restore-at " + restoreAt + " --checks " + checks);
        }
        Path work = a.work().resolve("bench-churn");
        String runName = "churn-" + System.currentTimeMillis();
        Map<String, String> settings = new LinkedHashMap<>(a.settings());
        // A store of its own per run: the search figures must come from this run's snapshots only.
        settings.putIfAbsent(IndexerOptions.SNAPSHOT_DIR.key(), work.resolve("snapshots").resolve(runName).toAbsolutePath().toUri().toString());
        DemoCatalogue catalogue = new DemoCatalogue();
        Map<String, Object> report = new LinkedHashMap<>();
        // The job's REST API (the web UI's) on a free port: the checks read its checkpoint statistics.
        int restPort = dev.similarity.local.LoopbackPorts.pickFree();
        List<AutoCloseable> restoredRuns = new java.util.ArrayList<>();
        try (LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(a.kafkaPort()).build().start();
             DemoImageServer images = new DemoImageServer(catalogue, 0);
             DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, runName, restPort, settings);
             AutoCloseable closesRestored = () -> { for (AutoCloseable r : restoredRuns) r.close(); }) {
            // The checks read each product's newest list and only the versions and times of older ones.
            run.lists().keepNeighboursOfNewestOnly();
            CatalogueChurn churn = new CatalogueChurn(run, catalogue, images, sharedImageFraction);
            // Every image the load and the churn show: products 0 .. products + additions + changes - 1.
            CatalogueEmbeddings embeddings = a.embeddedEvents() ? CatalogueEmbeddings.load(catalogue, run.config().modelDir(),
                    a.products() + additions + changes, a.work().resolve("embeddings"), true) : null;
            if (embeddings != null) {
                run.embeddedEvents(embeddings);
                report.put("embedded_events", embeddings.report());
            }
            ContractChecks contractChecks = new ContractChecks(churn, run, restPort, checkSample, a.timeoutMs());
            System.out.printf("loading %,d products (%s order) ...%n", a.products(), order.name().toLowerCase(java.util.Locale.ROOT));
            RunSummary load = churn.load(a.products(), a.timeoutMs(), order);
            report.put("load", load.values());
            contractChecks.take(0, checks);
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
                contractChecks.startChurn();
                churn.churn(additions, changes, removals, a.rate(), 42, order, checks, (step, steps) -> {
                    if (step == restoreStep) {
                        int restoredPort = dev.similarity.local.LoopbackPorts.pickFree();
                        DemoRun restored = crashAndRestore(contractChecks.run(), restoredPort, report);
                        restoredRuns.add(restored);
                        if (embeddings != null) restored.embeddedEvents(embeddings);
                        report.put("restore_after_step", step);
                        contractChecks.jobRestarted(restored, restoredPort);
                    }
                    contractChecks.take(step, steps);
                });
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
            report.put("order", order.name().toLowerCase(java.util.Locale.ROOT));
            report.put("additions", additions);
            report.put("changes", changes);
            report.put("removals", removals);
            report.put("shared_image_fraction", sharedImageFraction);
            report.put("products_showing_the_placeholder", churn.placeholderProducts());
            // Every live product at the sizes this machine runs; a sample beyond, where the brute force
            // over all pairs would take hours.
            int finalSample = finalCheckSample >= 0 ? finalCheckSample : churn.liveProducts() <= FULL_FINAL_CHECK_UP_TO ? 0 : checkSample;
            report.putAll(churn.checkContract(finalSample));
            report.put("contract_checks", contractChecks.entries());
            report.putAll(contractChecks.summary());
            report.putAll(churn.checkSnapshots(120_000));
            report.putAll(churn.freshness(churnStart));
            report.put("churn_seconds_until_quiet", churnSeconds);
            report.put("lists_published", run.lists().records());
            report.put("repeated_list_updates", run.lists().repeatedUpdates().size());
        }
        String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
        System.out.println(json);
        System.out.print(readableSummary(report));
        if (a.report() != null) {
            if (a.report().getParent() != null) Files.createDirectories(a.report().getParent());
            Files.writeString(a.report(), json);
            System.out.println("report written to " + a.report().toAbsolutePath());
        }
        System.exit(0);
    }
}
