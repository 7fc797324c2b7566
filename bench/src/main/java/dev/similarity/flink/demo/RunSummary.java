package dev.similarity.flink.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.similarity.schemas.Neighbour;
import dev.similarity.schemas.NeighbourList;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a run of the indexer achieved, measured from the outside: what was fed to Kafka against what
 * a read_committed consumer saw. Latency of a product = first visibility of a list reflecting its
 * event's version, minus the event's timestamp.
 */
public final class RunSummary {

    /** One fed upsert: when it was sent, which version, which catalogue item. */
    public record Fed(String productId, int catalogueNumber, long version, long eventTimestamp) {}

    private final Map<String, Object> values = new LinkedHashMap<>();
    private final List<String> examples = new ArrayList<>();

    public static RunSummary compute(List<Fed> fed, DemoCatalogue catalogue, NeighbourListCollector lists,
                                     NeighbourListCollector deadLetters, int k, long startedAt, Map<String, Object> extra) {
        RunSummary summary = new RunSummary();
        long[] latencies = new long[fed.size()];
        int measured = 0;
        long lastVisible = startedAt;
        int withFullList = 0;
        double precisionSum = 0;
        int precisionCount = 0;
        for (Fed f : fed) {
            List<NeighbourListCollector.Seen> history = lists.history(f.productId());
            long visibleAt = firstVisibleAt(history, f);
            if (visibleAt >= 0) {
                latencies[measured++] = visibleAt - f.eventTimestamp();
                lastVisible = Math.max(lastVisible, visibleAt);
            }
            if (!history.isEmpty()) {
                NeighbourList latest = history.get(history.size() - 1).list();
                if (latest != null) {
                    if (latest.getNeighbours().size() >= Math.min(k, fed.size() - 1)) withFullList++;
                    int label = catalogue.label(f.catalogueNumber());
                    int same = 0;
                    for (Neighbour n : latest.getNeighbours()) {
                        int number = catalogue.productNumber(n.getProductId());
                        if (number >= 0 && catalogue.label(number) == label) same++;
                    }
                    if (!latest.getNeighbours().isEmpty()) {
                        precisionSum += (double) same / latest.getNeighbours().size();
                        precisionCount++;
                    }
                }
            }
        }
        long[] sorted = Arrays.copyOf(latencies, measured);
        Arrays.sort(sorted);
        double seconds = Math.max(1e-3, (lastVisible - startedAt) / 1000.0);
        summary.values.put("products", fed.size());
        summary.values.put("products_with_list", measured);
        summary.values.put("products_with_full_list", withFullList);
        summary.values.put("lists_published", lists.records());
        summary.values.put("dead_letters", deadLetters == null ? 0 : deadLetters.records());
        summary.values.put("events_per_s", round(measured / seconds));
        summary.values.put("wall_s", round(seconds)); // first event fed to the last of their lists visible
        Map<String, Object> latency = new LinkedHashMap<>();
        latency.put("p50", percentile(sorted, 0.50));
        latency.put("p95", percentile(sorted, 0.95));
        latency.put("p99", percentile(sorted, 0.99));
        latency.put("max", sorted.length == 0 ? null : sorted[sorted.length - 1]);
        summary.values.put("latency_ms", latency);
        summary.values.put("precision_at_10", precisionCount == 0 ? null : round(precisionSum / precisionCount));
        summary.values.putAll(extra);

        for (Fed f : fed.subList(0, Math.min(3, fed.size()))) {
            List<NeighbourListCollector.Seen> history = lists.history(f.productId());
            if (history.isEmpty() || history.get(history.size() - 1).list() == null) continue;
            StringBuilder line = new StringBuilder(f.productId() + " (" + catalogue.category(f.catalogueNumber()) + "):");
            for (Neighbour n : history.get(history.size() - 1).list().getNeighbours()) {
                int number = catalogue.productNumber(n.getProductId());
                line.append(String.format(" %s[%s %.3f]", n.getProductId(), number < 0 ? "?" : catalogue.category(number), n.getScore()));
            }
            summary.examples.add(line.toString());
        }
        return summary;
    }

    /** When the first list reflecting {@code fed}'s version became visible, or -1 if none has. */
    static long firstVisibleAt(List<NeighbourListCollector.Seen> history, Fed fed) {
        for (NeighbourListCollector.Seen seen : history) {
            if (seen.list() != null && seen.list().getCatalogueVersion() >= fed.version()) {
                return seen.visibleAt();
            }
        }
        return -1;
    }

    static Long percentile(long[] sorted, double q) {
        if (sorted.length == 0) return null;
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    public Map<String, Object> values() {
        return values;
    }

    public Object get(String key) {
        return values.get(key);
    }

    public String toText() {
        StringBuilder text = new StringBuilder("\n==== similarity indexer run summary ====\n");
        values.forEach((key, value) -> text.append(String.format("  %-24s %s%n", key, value)));
        if (!examples.isEmpty()) {
            text.append("  example lists:\n");
            examples.forEach(e -> text.append("    ").append(e).append('\n'));
        }
        return text.toString();
    }

    public void writeJson(Path file) throws IOException {
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), values);
    }
}
