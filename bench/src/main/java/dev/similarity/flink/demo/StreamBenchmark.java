package dev.similarity.flink.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.similarity.kafka.local.LocalKafkaBroker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code scripts/bench-stream}: the indexer driven at a fixed event rate, then as fast as it goes,
 * each on a fresh job and fresh topics; event-to-visible-list latency measured by a read_committed
 * consumer. The report's top-level keys are the fixed-rate run's; {@code max_rate} holds the other.
 */
public final class StreamBenchmark {

    private static final int WARMUP_PRODUCTS = 1_000;
    private static final int WARMUP_PRODUCTS_AT_RATE = 3_000;

    private StreamBenchmark() {}

    public static void main(String[] args) throws Exception {
        DemoArgs a = DemoArgs.parse(args, "scripts/bench-stream [--products N] [--rate EVENTS_PER_S] [--embedded-events] [--report FILE] [--set option.key=value ...]");
        double rate = a.rate() > 0 ? a.rate() : 200;
        Path work = a.work().resolve("bench-stream");
        DemoCatalogue catalogue = new DemoCatalogue();
        Map<String, Object> report = new LinkedHashMap<>();
        CatalogueEmbeddings embeddings = !a.embeddedEvents() ? null : CatalogueEmbeddings.load(catalogue,
                dev.similarity.flink.IndexerConfig.from(a.settings()).modelDir(),
                Math.max(a.products(), Math.max(WARMUP_PRODUCTS, WARMUP_PRODUCTS_AT_RATE)), a.work().resolve("embeddings"), true);
        try (LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(a.kafkaPort()).build();
             DemoImageServer images = new DemoImageServer(catalogue, 0)) {
            broker.start();
            // A first job in a fresh JVM runs its first minute on cold code (JIT) and is slower than any later
            // one: the compiler threads alone took a quarter of a core during a 20 s run after a short warm-up.
            // Warm-up jobs, not reported, at full speed and at the measured rate, make the runs show the
            // steady state of a job that has been up for a while.
            System.out.printf("warm-up: %,d products at full speed and %,d at %s events/s, not reported%n",
                    WARMUP_PRODUCTS, WARMUP_PRODUCTS_AT_RATE, rate);
            run(catalogue, images, broker, work, a, 0, WARMUP_PRODUCTS, embeddings);
            run(catalogue, images, broker, work, a, rate, WARMUP_PRODUCTS_AT_RATE, embeddings);
            RunSummary fixed = run(catalogue, images, broker, work, a, rate, a.products(), embeddings);
            report.putAll(fixed.values());
            RunSummary max = run(catalogue, images, broker, work, a, 0, a.products(), embeddings);
            report.put("max_rate", max.values());
            System.out.print("\nfixed rate:" + fixed.toText() + "\nmax rate:" + max.toText());
        }
        report.put("cores", Runtime.getRuntime().availableProcessors());
        if (a.report() != null) {
            if (a.report().getParent() != null) Files.createDirectories(a.report().getParent());
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(a.report().toFile(), report);
            System.out.println("report written to " + a.report().toAbsolutePath());
        }
        System.exit(0);
    }

    private static RunSummary run(DemoCatalogue catalogue, DemoImageServer images, LocalKafkaBroker broker, Path work,
                                  DemoArgs a, double rate, int products, CatalogueEmbeddings embeddings) throws Exception {
        String runName = "bench-" + (rate > 0 ? (long) rate + "eps" : "max") + "-" + System.currentTimeMillis();
        System.out.printf("run %s: %,d products at %s events/s%n", runName, products, rate > 0 ? rate : "max");
        try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, runName, -1, a.settings())) {
            run.embeddedEvents(embeddings);
            Thread.sleep(3_000); // job start-up and model load are not part of the measurement
            return run.feedAndMeasure(0, products, rate, a.timeoutMs(), true);
        }
    }
}
