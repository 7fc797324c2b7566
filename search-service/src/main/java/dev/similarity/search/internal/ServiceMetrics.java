package dev.similarity.search.internal;

import dev.similarity.index.snapshot.SnapshotManifest;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * The service's counters, rendered in the Prometheus text format (version 0.0.4). Every counter is
 * lock-free; rendering reads them without stopping writers, so one scrape may mix values a few
 * microseconds apart.
 */
public final class ServiceMetrics {

  /** Upper bounds of the request latency histogram, in seconds. */
  static final double[] LATENCY_BUCKETS = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5
  };

  /** Why loading a shard snapshot failed. */
  public enum LoadFailure {
    /** A file's size or SHA-256 differs from its manifest, or Lucene found the commit broken. */
    CORRUPT,
    /** A blob was gone (retention) even after retrying with the then-latest manifest. */
    MISSING,
    /** The store could not be read. */
    IO;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Map<String, LongAdder> requests = new ConcurrentSkipListMap<>();
  private final Map<Endpoint, Histogram> latency = new ConcurrentHashMap<>();
  private final Map<Integer, LongAdder> swaps = new ConcurrentSkipListMap<>();
  private final Map<String, LongAdder> loadFailures = new ConcurrentSkipListMap<>();
  private final Map<Integer, LongAdder> loadRetries = new ConcurrentSkipListMap<>();
  private final Map<Integer, Double> lastLoadSeconds = new ConcurrentSkipListMap<>();
  private final Map<Integer, Refusal> refusals = new ConcurrentSkipListMap<>();
  private final LongAdder polls = new LongAdder();
  private final LongAdder pollFailures = new LongAdder();
  private final AtomicInteger snapshotsOpen = new AtomicInteger();
  private final LongAdder snapshotsClosed = new LongAdder();

  /** Records one answered request. */
  public void request(Endpoint endpoint, int status, long nanos) {
    requests.computeIfAbsent(endpoint.label() + "\u0000" + status, key -> new LongAdder()).increment();
    latency.computeIfAbsent(endpoint, e -> new Histogram()).record(nanos / 1e9);
  }

  void snapshotLoaded(int shard, Duration took) {
    snapshotsOpen.incrementAndGet();
    lastLoadSeconds.put(shard, took.toNanos() / 1e9);
  }

  void snapshotSwapped(int shard) {
    swaps.computeIfAbsent(shard, s -> new LongAdder()).increment();
  }

  void snapshotClosed() {
    snapshotsOpen.decrementAndGet();
    snapshotsClosed.increment();
  }

  void loadFailed(int shard, LoadFailure reason) {
    loadFailures.computeIfAbsent(shard + "\u0000" + reason.label(), key -> new LongAdder()).increment();
  }

  /**
   * The newest snapshot of a shard could not be loaded: the service serves an older one, or none.
   * Replaces the shard's previous refusal.
   */
  void snapshotRefused(Refusal refusal) {
    refusals.put(refusal.shard(), refusal);
  }

  /** The shard serves its newest published snapshot (or has none): no refusal stands. */
  void newestServed(int shard) {
    refusals.remove(shard);
  }

  /** Shards whose newest published snapshot is refused, by shard; empty when every shard serves its newest. */
  public Map<Integer, Refusal> refusals() {
    return Map.copyOf(refusals);
  }

  /**
   * Why the newest published snapshot of a shard is not served.
   *
   * @param checkpointId the refused snapshot's checkpoint
   * @param servedCheckpointId the checkpoint served instead, or null when the shard has none loaded
   * @param message what is wrong, e.g. which blob failed its SHA-256
   * @param since when it was first refused
   */
  public record Refusal(int shard, long checkpointId, Long servedCheckpointId, LoadFailure reason, String message,
      Instant since) {}

  void loadRetried(int shard) {
    loadRetries.computeIfAbsent(shard, s -> new LongAdder()).increment();
  }

  void polled(boolean failed) {
    polls.increment();
    if (failed) {
      pollFailures.increment();
    }
  }

  /** Snapshot replacements so far, over all shards. */
  public long swapsTotal() {
    return swaps.values().stream().mapToLong(LongAdder::sum).sum();
  }

  /** Shard snapshots loaded and not yet closed: the current ones and retired ones still in use. */
  public int snapshotsOpen() {
    return snapshotsOpen.get();
  }

  /**
   * Everything, as Prometheus text.
   *
   * @param view the current view (the caller holds it)
   * @param embedderModelMatches 1 or 0 whether the image embedder's model is the snapshots' model,
   *     null without an embedder
   */
  public String render(SnapshotView view, Instant now, Integer embedderModelMatches) {
    StringBuilder out = new StringBuilder(8192);
    header(out, "search_snapshot_age_seconds", "gauge",
        "Seconds since the served snapshot of the shard was taken (its manifest's createdAt).");
    for (LoadedShard loaded : view.shards()) {
      SnapshotManifest m = loaded.manifest();
      sample(out, "search_snapshot_age_seconds", shard(m.shard()),
          Duration.between(m.createdAt(), now).toMillis() / 1000.0);
    }
    header(out, "search_snapshot_checkpoint_id", "gauge",
        "Flink checkpoint id of the served snapshot of the shard.");
    for (LoadedShard loaded : view.shards()) {
      sample(out, "search_snapshot_checkpoint_id", shard(loaded.manifest().shard()),
          loaded.manifest().checkpointId());
    }
    header(out, "search_snapshot_documents", "gauge", "Products in the served snapshot of the shard.");
    for (LoadedShard loaded : view.shards()) {
      sample(out, "search_snapshot_documents", shard(loaded.manifest().shard()),
          loaded.snapshot().documentCount());
    }
    header(out, "search_snapshot_bytes", "gauge", "Index bytes the served snapshot of the shard holds in memory.");
    for (LoadedShard loaded : view.shards()) {
      sample(out, "search_snapshot_bytes", shard(loaded.manifest().shard()), loaded.snapshot().ramBytes());
    }
    header(out, "search_snapshot_load_seconds", "gauge", "How long the last snapshot load of the shard took.");
    lastLoadSeconds.forEach((s, seconds) -> sample(out, "search_snapshot_load_seconds", shard(s), seconds));
    header(out, "search_snapshot_swaps_total", "counter",
        "Times a newer snapshot of the shard replaced the served one.");
    swaps.forEach((s, count) -> sample(out, "search_snapshot_swaps_total", shard(s), count.sum()));
    header(out, "search_snapshot_load_failures_total", "counter",
        "Snapshot loads that failed; the served snapshot was kept. reason: corrupt, missing or io.");
    loadFailures.forEach((key, count) -> {
      String[] parts = key.split("\u0000");
      sample(out, "search_snapshot_load_failures_total",
          "shard=\"" + parts[0] + "\",reason=\"" + parts[1] + "\"", count.sum());
    });
    header(out, "search_snapshot_load_retries_total", "counter",
        "Loads restarted from the then-latest manifest because retention removed a blob meanwhile.");
    loadRetries.forEach((s, count) -> sample(out, "search_snapshot_load_retries_total", shard(s), count.sum()));
    header(out, "search_snapshot_refused_checkpoint_id", "gauge",
        "Checkpoint of the shard's newest published snapshot while it is refused (an older one or none is served)."
            + " reason: corrupt, missing or io. Absent while the shard serves its newest.");
    refusals.values().forEach(r -> sample(out, "search_snapshot_refused_checkpoint_id",
        "shard=\"" + r.shard() + "\",reason=\"" + r.reason().label() + "\"", r.checkpointId()));
    header(out, "search_snapshots_open", "gauge",
        "Shard snapshots in memory: the served ones plus replaced ones that requests still hold.");
    sample(out, "search_snapshots_open", null, snapshotsOpen.get());
    header(out, "search_snapshots_closed_total", "counter", "Replaced shard snapshots closed after their last request.");
    sample(out, "search_snapshots_closed_total", null, snapshotsClosed.sum());
    header(out, "search_store_polls_total", "counter", "Polls of the snapshot store.");
    sample(out, "search_store_polls_total", null, polls.sum());
    header(out, "search_store_poll_failures_total", "counter", "Polls that could not list the snapshot store.");
    sample(out, "search_store_poll_failures_total", null, pollFailures.sum());
    header(out, "search_index_complete", "gauge",
        "1 when every shard has a loaded snapshot and all agree on shard count, model and dimension.");
    sample(out, "search_index_complete", null, view.problems().isEmpty() ? 1 : 0);
    if (embedderModelMatches != null) {
      header(out, "search_embedder_model_matches", "gauge",
          "1 when the image embedder's model is the model of the served snapshots.");
      sample(out, "search_embedder_model_matches", null, embedderModelMatches);
    }
    header(out, "search_requests_total", "counter", "HTTP requests answered, by endpoint and status.");
    requests.forEach((key, count) -> {
      String[] parts = key.split("\u0000");
      sample(out, "search_requests_total", "endpoint=\"" + parts[0] + "\",status=\"" + parts[1] + "\"",
          count.sum());
    });
    header(out, "search_request_duration_seconds", "histogram",
        "Time from reading a request to its response being ready to send, by endpoint.");
    for (Endpoint endpoint : Endpoint.values()) {
      Histogram histogram = latency.get(endpoint);
      if (histogram != null) {
        histogram.render(out, "search_request_duration_seconds", "endpoint=\"" + endpoint.label() + "\"");
      }
    }
    return out.toString();
  }

  private static String shard(int shard) {
    return "shard=\"" + shard + "\"";
  }

  private static void header(StringBuilder out, String name, String type, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void sample(StringBuilder out, String name, String labels, double value) {
    out.append(name);
    if (labels != null) {
      out.append('{').append(labels).append('}');
    }
    out.append(' ').append(number(value)).append('\n');
  }

  private static String number(double value) {
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      return Long.toString((long) value);
    }
    return Double.toString(value);
  }

  /** Latency buckets of one endpoint; the last bucket holds what is slower than every bound. */
  private static final class Histogram {
    private final LongAdder[] buckets = new LongAdder[LATENCY_BUCKETS.length + 1];
    private final DoubleAdder sum = new DoubleAdder();

    Histogram() {
      for (int i = 0; i < buckets.length; i++) {
        buckets[i] = new LongAdder();
      }
    }

    void record(double seconds) {
      int i = 0;
      while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) {
        i++;
      }
      buckets[i].increment();
      sum.add(seconds);
    }

    /** The count is the sum of the buckets read here, so +Inf and _count always match them. */
    void render(StringBuilder out, String name, String labels) {
      long cumulative = 0;
      for (int i = 0; i < LATENCY_BUCKETS.length; i++) {
        cumulative += buckets[i].sum();
        sample(out, name + "_bucket", labels + ",le=\"" + LATENCY_BUCKETS[i] + "\"", cumulative);
      }
      cumulative += buckets[LATENCY_BUCKETS.length].sum();
      sample(out, name + "_bucket", labels + ",le=\"+Inf\"", cumulative);
      sample(out, name + "_sum", labels, sum.sum());
      sample(out, name + "_count", labels, cumulative);
    }
  }
}
