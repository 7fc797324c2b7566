package dev.similarity.flink.demo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a retailer's catalogue does after its first load: a steady mix of additions, image changes and
 * removals at a fixed rate for a while. The demo streams it after the bootstrap and reports the
 * freshness of these changes (event to visible list) apart from the bootstrap's queueing.
 *
 * <p>Options (taken out of the demo's arguments by {@link #extract}): {@code --change-rate EVENTS_PER_S}
 * (default 50; 0: no change phase) and {@code --change-duration SECONDS} ({@code 30} or {@code 30s};
 * default 30).
 */
public final class ChangeStream {

    /** The mix: of every 10 changes, 4 additions, 4 image changes and 2 removals. */
    static final double ADDITIONS = 0.4, IMAGE_CHANGES = 0.4;

    /** How fast and how long the change phase runs. */
    public record Options(double rate, long durationSeconds) {
        public Options {
            if (!(rate >= 0) || Double.isInfinite(rate)) {
                throw new IllegalArgumentException("--change-rate must be 0 (no changes) or a positive number of events/s, got " + rate);
            }
            if (durationSeconds < 0) throw new IllegalArgumentException("--change-duration must not be negative, got " + durationSeconds);
        }

        public long events() {
            return Math.round(rate * durationSeconds);
        }
    }

    /** Additions, image changes and removals of one change phase, at {@code rate} events/s. */
    public record Plan(int additions, int imageChanges, int removals, double rate) {
        public int events() {
            return additions + imageChanges + removals;
        }
    }

    private ChangeStream() {}

    /**
     * Removes {@code --change-rate} and {@code --change-duration} (each with its value) from {@code args}
     * and returns them; the rest stays for {@link DemoArgs}.
     */
    public static Options extract(List<String> args) {
        double rate = 50;
        long seconds = 30;
        for (int i = 0; i < args.size(); ) {
            String arg = args.get(i);
            if (!arg.equals("--change-rate") && !arg.equals("--change-duration")) {
                i++;
                continue;
            }
            if (i + 1 >= args.size()) throw new IllegalArgumentException(arg + " needs a value");
            String value = args.get(i + 1);
            try {
                if (arg.equals("--change-rate")) {
                    rate = Double.parseDouble(value);
                } else {
                    seconds = Long.parseLong(value.endsWith("s") ? value.substring(0, value.length() - 1) : value);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(arg + " expects a number" + (arg.equals("--change-duration") ? " of seconds (60 or 60s)" : "")
                        + ", got '" + value + "'");
            }
            args.remove(i + 1);
            args.remove(i);
        }
        return new Options(rate, seconds);
    }

    /**
     * The mix for {@code options} after {@code loaded} products, within a catalogue of {@code capacity}
     * images: image changes and removals are capped at half and a quarter of the loaded products, so a
     * small catalogue is not emptied; the rest are additions. Additions and image changes each need an
     * image no product showed: they stop where the catalogue runs out of them.
     */
    public static Plan plan(Options options, int loaded, int capacity) {
        long events = options.events();
        int removals = (int) Math.min(Math.round(events * (1 - ADDITIONS - IMAGE_CHANGES)), loaded / 4);
        // Each addition and each image change shows an image no product showed before.
        int changes = (int) Math.min(Math.min(Math.round(events * IMAGE_CHANGES), loaded / 2), Math.max(0, capacity - loaded));
        int additions = (int) Math.max(0, Math.min(events - removals - changes, (long) capacity - loaded - changes));
        return new Plan(additions, changes, removals, options.rate());
    }

    /**
     * Streams {@code plan} into {@code churn}'s catalogue, waits until the job is quiet, and returns the
     * freshness of the changes: {@code latency_ms} (a changed or added product's own list) and
     * {@code reverse_latency_ms} (other products' lists that the changes updated), p50/p95/p99.
     */
    public static Map<String, Object> run(CatalogueChurn churn, Plan plan, long timeoutMs) throws Exception {
        long startedAt = System.currentTimeMillis();
        churn.churn(plan.additions(), plan.imageChanges(), plan.removals(), plan.rate(), 7);
        long fedAt = System.currentTimeMillis();
        awaitOwnLists(churn, startedAt, plan.additions() + plan.imageChanges(), timeoutMs);
        // Reverse updates of the last changes may follow their own lists by a checkpoint or two.
        churn.awaitQuiet(3_000, timeoutMs);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("rate", plan.rate());
        out.put("events", plan.events());
        out.put("additions", plan.additions());
        out.put("image_changes", plan.imageChanges());
        out.put("removals", plan.removals());
        out.put("feed_s", Math.round((fedAt - startedAt) / 100.0) / 10.0);
        out.putAll(churn.freshness(startedAt));
        return out;
    }

    /**
     * Waits until {@code expected} added or changed products have their own list of the new version, or
     * no list arrived for 30 s after some did (an image change to bytes already shown is not re-listed),
     * or {@code timeoutMs} passed.
     */
    @SuppressWarnings("unchecked")
    private static void awaitOwnLists(CatalogueChurn churn, long startedAt, int expected, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        long seen = -1, since = System.currentTimeMillis();
        while (System.currentTimeMillis() < deadline) {
            long own = ((Number) ((Map<String, Object>) churn.freshness(startedAt).get("latency_ms")).get("samples")).longValue();
            if (own >= expected) return;
            if (own != seen) {
                seen = own;
                since = System.currentTimeMillis();
            } else if (own > 0 && System.currentTimeMillis() - since > 30_000) {
                return;
            }
            Thread.sleep(1_000);
        }
    }

    /** Lines a person reads: the bootstrap, then the changes' freshness. */
    @SuppressWarnings("unchecked")
    public static String text(Map<String, Object> bootstrap, Map<String, Object> changes) {
        List<String> lines = new ArrayList<>();
        lines.add("\n==== what a retailer lives with ====");
        lines.add(String.format("bootstrap: %s products with a list %s s after the first was fed (%s products/s)",
                bootstrap.get("products_with_list"), bootstrap.get("wall_s"), bootstrap.get("events_per_s")));
        if (changes != null) {
            Map<String, Object> direct = (Map<String, Object>) changes.get("latency_ms");
            Map<String, Object> reverse = (Map<String, Object>) changes.get("reverse_latency_ms");
            lines.add(String.format("changes: %s events at %s/s (%s additions, %s image changes, %s removals)",
                    changes.get("events"), changes.get("rate"), changes.get("additions"), changes.get("image_changes"), changes.get("removals")));
            lines.add(String.format("  freshness, event to the product's own list: p50 %s ms, p95 %s ms, p99 %s ms (%s lists)",
                    direct.get("p50"), direct.get("p95"), direct.get("p99"), direct.get("samples")));
            lines.add(String.format("  freshness of the other lists they changed:  p50 %s ms, p95 %s ms, p99 %s ms (%s lists)",
                    reverse.get("p50"), reverse.get("p95"), reverse.get("p99"), reverse.get("samples")));
        }
        return String.join("\n", lines) + "\n";
    }
}
