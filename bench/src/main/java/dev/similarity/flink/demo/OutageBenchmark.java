package dev.similarity.flink.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.similarity.embedding.tools.Arguments;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.kafka.local.LocalKafkaBroker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code scripts/bench-outage}: a steady stream of products while their partner's image host fails
 * for a while (503s, or connections that are accepted and never answered), at the job's default fetch
 * and retry settings. One product in five comes from a second, healthy host. Reports how many products
 * ended listed or dead-lettered, how long after the host came back every product was listed, and the
 * healthy host's event-to-list latency during the outage (lists commit on checkpoints, so that latency
 * shows whether checkpoints kept completing).
 */
public final class OutageBenchmark {

    private static final String USAGE = "scripts/bench-outage [--products 5000] [--rate 50] [--outage unavailable|hang] "
            + "[--outage-start 20s] [--outage-seconds 60s] [--timeout 10m] [--report FILE]";

    private OutageBenchmark() {}

    public static void main(String[] args) throws Exception {
        Arguments a = Arguments.parse(args, USAGE, List.of("--products", "--rate", "--outage", "--outage-start",
                "--outage-seconds", "--timeout", "--report"), List.of());
        int products = a.getInt("--products", 5000);
        double rate = a.getFloat("--rate", 50f);
        DemoImageServer.Outage kind = DemoImageServer.Outage.valueOf(a.get("--outage", "unavailable").toUpperCase(java.util.Locale.ROOT));
        long outageStart = a.getDuration("--outage-start", java.time.Duration.ofSeconds(20)).toMillis();
        long outageLength = a.getDuration("--outage-seconds", java.time.Duration.ofSeconds(60)).toMillis();
        long timeout = a.getDuration("--timeout", java.time.Duration.ofMinutes(10)).toMillis();
        Path work = Files.createTempDirectory("bench-outage");
        DemoCatalogue catalogue = new DemoCatalogue();
        try (LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build();
             DemoImageServer partner = new DemoImageServer(catalogue, 0);
             DemoImageServer healthy = new DemoImageServer(catalogue, 0)) {
            broker.start();
            Map<String, String> settings = Map.of(IndexerOptions.FETCH_TRUSTED_ORIGINS.key(), partner.baseUrl() + ";" + healthy.baseUrl());
            try (DemoRun run = new DemoRun(catalogue, partner, broker.bootstrapServers(), work, "outage", -1, settings);
                 CatalogueFeeder feeder = new CatalogueFeeder(broker.bootstrapServers(), run.config().get(IndexerOptions.CATALOGUE_TOPIC),
                         run.config().get(IndexerOptions.CATALOGUE_WIRE_FORMAT));
                 NeighbourListCollector retries = new NeighbourListCollector(broker.bootstrapServers(),
                         run.config().get(IndexerOptions.FETCH_RETRY_TOPIC), false)) {
                long[] fedAt = new long[products];
                long start = System.currentTimeMillis();
                long outageFrom = start + outageStart, outageTo = outageFrom + outageLength;
                boolean down = false;
                for (int i = 0; i < products; i++) {
                    long due = start + (long) (i * 1000.0 / rate);
                    long now;
                    while ((now = System.currentTimeMillis()) < due) Thread.sleep(Math.max(1, due - now));
                    if (!down && now >= outageFrom && now < outageTo) {
                        partner.outage(kind);
                        down = true;
                        System.out.printf("outage (%s) begins after %,d products%n", kind, i);
                    } else if (down && now >= outageTo) {
                        partner.outage(DemoImageServer.Outage.NONE);
                        down = false;
                        System.out.printf("host back after %,d products%n", i);
                    }
                    DemoImageServer host = i % 5 == 0 ? healthy : partner;
                    fedAt[i] = feeder.upsert(catalogue.productId(i), host.imageUrl(i), catalogue.category(i), 1, false);
                }
                feeder.flush();
                while (System.currentTimeMillis() < outageTo) Thread.sleep(100);
                partner.outage(DemoImageServer.Outage.NONE);
                long back = Math.max(outageTo, System.currentTimeMillis());
                long deadline = back + timeout;
                int listed = 0;
                while (System.currentTimeMillis() < deadline) {
                    java.util.Set<String> seen = run.lists().keysSeen();
                    listed = 0;
                    for (int i = 0; i < products; i++) {
                        if (seen.contains(catalogue.productId(i))) listed++;
                    }
                    if (listed + run.deadLetters().keys() >= products) break;
                    Thread.sleep(1000);
                    System.out.printf("%,d of %,d listed, %,d dead letters, %,d retry records%n", listed, products,
                            run.deadLetters().keys(), retries.records());
                }
                List<Long> partnerLatency = new ArrayList<>(), healthyDuringOutage = new ArrayList<>(), healthyBefore = new ArrayList<>();
                long lastListedAt = 0;
                for (int i = 0; i < products; i++) {
                    List<NeighbourListCollector.Seen> history = run.lists().history(catalogue.productId(i));
                    if (history.isEmpty()) continue;
                    long visible = history.get(0).visibleAt();
                    lastListedAt = Math.max(lastListedAt, visible);
                    if (i % 5 == 0) {
                        if (fedAt[i] >= outageFrom && fedAt[i] < outageTo) healthyDuringOutage.add(visible - fedAt[i]);
                        if (fedAt[i] < outageFrom) healthyBefore.add(visible - fedAt[i]);
                    } else {
                        partnerLatency.add(visible - fedAt[i]);
                    }
                }
                Map<String, Object> report = new LinkedHashMap<>();
                report.put("products", products);
                report.put("rate", rate);
                report.put("outage", kind.name().toLowerCase(java.util.Locale.ROOT));
                report.put("outage_s", outageLength / 1000.0);
                report.put("listed", listed);
                report.put("dead_letters", run.deadLetters().keys());
                report.put("fetch_retry_records", retries.records());
                report.put("all_listed_s_after_host_back", listed == products ? Math.max(0, lastListedAt - back) / 1000.0 : null);
                report.put("partner_latency_ms", percentiles(partnerLatency));
                report.put("healthy_host_latency_before_outage_ms", percentiles(healthyBefore));
                report.put("healthy_host_latency_during_outage_ms", percentiles(healthyDuringOutage));
                report.put("settings", Map.of("fetch.timeout", run.config().get(IndexerOptions.FETCH_TIMEOUT).toString(),
                        "fetch.retry.horizon", run.config().get(IndexerOptions.FETCH_RETRY_HORIZON).toString(),
                        "fetch.retry.max-backoff", run.config().get(IndexerOptions.FETCH_RETRY_MAX_BACKOFF).toString()));
                String json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(report);
                System.out.println(json);
                if (a.has("--report")) Files.writeString(Path.of(a.require("--report")), json);
            }
        }
    }

    private static Map<String, Object> percentiles(List<Long> values) {
        Map<String, Object> p = new HashMap<>();
        if (values.isEmpty()) return p;
        long[] sorted = values.stream().mapToLong(Long::longValue).sorted().toArray();
        p.put("count", sorted.length);
        p.put("p50", sorted[sorted.length / 2]);
        p.put("p99", sorted[Math.min(sorted.length - 1, (int) (sorted.length * 0.99))]);
        p.put("max", sorted[sorted.length - 1]);
        return p;
    }
}
