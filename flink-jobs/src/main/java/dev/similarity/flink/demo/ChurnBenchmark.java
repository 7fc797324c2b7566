package dev.similarity.flink.demo;

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
 * reverse updates.
 */
public final class ChurnBenchmark {

    private ChurnBenchmark() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> churnArgs = new LinkedHashMap<>(Map.of("--additions", "5000", "--changes", "2000", "--removals", "2000"));
        java.util.List<String> rest = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (churnArgs.containsKey(args[i]) && i + 1 < args.length) {
                churnArgs.put(args[i], args[++i]);
            } else {
                rest.add(args[i]);
            }
        }
        DemoArgs a = DemoArgs.parse(rest.toArray(new String[0]), "scripts/bench-churn [--products N] [--additions A] [--changes C] "
                + "[--removals R] [--rate EVENTS_PER_S] [--report FILE] [--set option.key=value ...]");
        int additions = Integer.parseInt(churnArgs.get("--additions"));
        int changes = Integer.parseInt(churnArgs.get("--changes"));
        int removals = Integer.parseInt(churnArgs.get("--removals"));
        Path work = a.work().resolve("bench-churn");
        DemoCatalogue catalogue = new DemoCatalogue();
        Map<String, Object> report = new LinkedHashMap<>();
        try (LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(a.kafkaPort()).build().start();
             DemoImageServer images = new DemoImageServer(catalogue, 0);
             DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, "churn-" + System.currentTimeMillis(), -1, a.settings())) {
            CatalogueChurn churn = new CatalogueChurn(run, catalogue, images);
            System.out.printf("loading %,d products ...%n", a.products());
            RunSummary load = churn.load(a.products(), a.timeoutMs());
            report.put("load", load.values());
            long churnStart = System.currentTimeMillis();
            System.out.printf("churn: %,d additions, %,d image changes, %,d removals ...%n", additions, changes, removals);
            churn.churn(additions, changes, removals, a.rate(), 42);
            churn.awaitQuiet(10_000, a.timeoutMs());
            long churnSeconds = (System.currentTimeMillis() - churnStart) / 1000;
            System.out.println("checking the contract against the exact top-k of the live catalogue ...");
            report.put("products", a.products());
            report.put("additions", additions);
            report.put("changes", changes);
            report.put("removals", removals);
            report.putAll(churn.checkContract());
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
