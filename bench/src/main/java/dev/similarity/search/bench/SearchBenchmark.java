package dev.similarity.search.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.similarity.embedding.internal.Folders;
import dev.similarity.index.ProductVector;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import dev.similarity.index.tools.ClusteredUnitVectors;
import dev.similarity.search.SearchService;
import dev.similarity.embedding.tools.Arguments;
import dev.similarity.search.testing.ShardPublisher;
import dev.similarity.embedding.tools.Arguments.UsageException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The search service under load while snapshots swap: builds {@code --products} clustered unit
 * vectors into {@code --shards} real shard indices, publishes their snapshots into a temporary
 * store, starts a {@link SearchService} on it, and runs {@link SearchLoad} ({@code GET
 * /api/similar}, random product ids) while a publisher thread keeps changing products of one shard
 * after another and publishing the shard, so the service keeps loading and swapping snapshots.
 * Writes a JSON report and prints a summary.
 */
public final class SearchBenchmark {

  static final String USAGE = """
      usage: bench-search --products N --report FILE.json [--shards 4] [--seconds 30] [--clients 2] [--k 10]
                          [--warmup 5s] [--publish-every 1s] [--changes 100] [--poll-interval 500ms]
                          [--threads N] [--candidates 100] [--dimension 128] [--clusters 100] [--seed 42]
        --publish-every  pause between two publications (each re-embeds --changes products of one shard)""";

  private static final String MODEL_ID = "synthetic-clustered@1";

  private SearchBenchmark() {}

  public static void main(String[] args) throws Exception {
    Arguments line;
    try {
      line = Arguments.parse(args, USAGE, List.of("--products", "--report", "--shards", "--seconds", "--clients",
          "--k", "--warmup", "--publish-every", "--changes", "--poll-interval", "--threads", "--candidates", "--dimension",
          "--clusters", "--seed"), List.of());
      line.require("--products");
      line.require("--report");
    } catch (UsageException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    int products = line.getInt("--products", 0);
    int shards = line.getInt("--shards", 4);
    int seconds = line.getInt("--seconds", 30);
    int clients = line.getInt("--clients", 2);
    int k = line.getInt("--k", 10);
    Duration warmup = line.getDuration("--warmup", Duration.ofSeconds(5));
    Duration publishEvery = line.getDuration("--publish-every", Duration.ofSeconds(1));
    int changes = line.getInt("--changes", 100);
    Duration pollInterval = line.getDuration("--poll-interval", Duration.ofMillis(500));
    int candidates = line.getInt("--candidates", ShardSnapshot.DEFAULT_SEARCH_CANDIDATES);
    int dimension = line.getInt("--dimension", 128);
    int clusters = line.getInt("--clusters", 100);
    long seed = line.getInt("--seed", 42);
    Path report = Path.of(line.require("--report"));
    if (products < shards || shards < 1 || seconds < 1 || clients < 1 || changes < 0) {
      System.err.println("--products must be at least --shards (>= 1); --seconds and --clients at least 1\n" + USAGE);
      System.exit(2);
    }

    Map<String, Object> out = new LinkedHashMap<>();
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("products", products);
    settings.put("shards", shards);
    settings.put("dimension", dimension);
    settings.put("clusters", clusters);
    settings.put("k", k);
    settings.put("search_candidates_per_shard", candidates);
    settings.put("clients", clients);
    settings.put("seconds", seconds);
    settings.put("warmup_seconds", warmup.toMillis() / 1000.0);
    settings.put("publish_every_ms", publishEvery.toMillis());
    settings.put("changes_per_publish", changes);
    settings.put("poll_interval_ms", pollInterval.toMillis());
    settings.put("cores", Runtime.getRuntime().availableProcessors());
    settings.put("java", Runtime.version().toString());
    settings.put("load_average_before", Folders.loadAverage());
    out.put("settings", settings);

    Path folder = Files.createTempDirectory("bench-search-store");
    SnapshotStore store = SnapshotStore.at(folder.toString());
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(dimension, clusters, 1.0, seed);
    // Retention as tight as it goes, so loads race with deletions as they would under a busy job.
    try (ShardPublisher publisher =
        new ShardPublisher(store, shards, MODEL_ID, dimension, new RetentionPolicy(2, Duration.ZERO))) {
      log("building %,d products into %d shards (d=%d)", products, shards, dimension);
      long buildStart = System.nanoTime();
      List<ProductVector> catalogue = new ArrayList<>(products);
      List<String> ids = new ArrayList<>(products);
      for (int i = 0; i < products; i++) {
        String id = "p" + i;
        ids.add(id);
        catalogue.add(new ProductVector(id, vectors.next(), "c" + (i % 10), imageUrl(i)));
      }
      publisher.bulkLoad(catalogue);
      catalogue.clear();
      publisher.publish();
      double buildSeconds = (System.nanoTime() - buildStart) / 1e9;
      log("built and published in %.1f s: %s", buildSeconds, sizeOf(folder));
      out.put("build_and_first_publish_seconds", round(buildSeconds));

      List<List<String>> idsByShard = new ArrayList<>();
      for (int s = 0; s < shards; s++) {
        idsByShard.add(new ArrayList<>());
      }
      ids.forEach(id -> idsByShard.get(publisher.shardOf(id)).add(id));

      SearchService.Builder builder = SearchService.builder().store(store).port(0).pollInterval(pollInterval)
          .searchCandidates(candidates);
      if (line.has("--threads")) {
        builder.threads(line.getInt("--threads", 0));
      }
      try (SearchService service = builder.build().start()) {
        log("service on %s serves checkpoints %s", service.baseUri(), service.servedCheckpoints());
        if (!warmup.isZero()) {
          log("warm-up: %d s without publishing", warmup.toSeconds());
          log("warm-up: %s", SearchLoad.run(service.baseUri(), ids, clients, warmup, k).summary());
        }
        long swapsBefore = service.swaps();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong publications = new AtomicLong();
        List<Double> publishSeconds = new ArrayList<>();
        Thread churn = new Thread(() -> {
          SplittableRandom random = new SplittableRandom(seed + 1);
          int shard = 0;
          while (!stop.get()) {
            List<String> owned = idsByShard.get(shard);
            long begin = System.nanoTime();
            for (int c = 0; c < changes; c++) {
              int n = random.nextInt(owned.size());
              String id = owned.get(n);
              int i = Integer.parseInt(id.substring(1));
              publisher.upsert(id, vectors.next(), "c" + (i % 10), imageUrl(i));
            }
            publisher.publish(shard);
            synchronized (publishSeconds) {
              publishSeconds.add((System.nanoTime() - begin) / 1e9);
            }
            publications.incrementAndGet();
            shard = (shard + 1) % shards;
            pause(publishEvery, stop);
          }
        }, "bench-publisher");
        log("measuring: %d clients for %d s while shard snapshots are republished every %d ms",
            clients, seconds, publishEvery.toMillis());
        churn.start();
        SearchLoadResult result = SearchLoad.run(service.baseUri(), ids, clients, Duration.ofSeconds(seconds), k);
        stop.set(true);
        churn.join();
        service.pollNow();
        String metrics = fetch(service.baseUri().resolve("metrics"));
        long swaps = service.swaps() - swapsBefore;
        int open = service.snapshotsOpen();

        Map<String, Object> load = new LinkedHashMap<>();
        load.put("requests", result.requests());
        load.put("failed_requests", result.failedRequests());
        load.put("qps", round(result.qps()));
        load.put("p50_ms", round(result.p50Ms()));
        load.put("p95_ms", round(result.p95Ms()));
        load.put("p99_ms", round(result.p99Ms()));
        load.put("max_ms", round(result.maxMs()));
        load.put("failure_samples", result.failureSamples());
        out.put("load", load);
        Map<String, Object> swapping = new LinkedHashMap<>();
        swapping.put("publications", publications.get());
        swapping.put("publish_seconds_mean", round(publishSeconds.stream().mapToDouble(d -> d).average().orElse(0)));
        swapping.put("swaps", swaps);
        swapping.put("load_failures", metricSum(metrics, "search_snapshot_load_failures_total"));
        swapping.put("load_retries", metricSum(metrics, "search_snapshot_load_retries_total"));
        swapping.put("last_load_seconds_mean", round(metricSum(metrics, "search_snapshot_load_seconds") / shards));
        swapping.put("snapshots_open_after", open);
        swapping.put("snapshots_closed", metricSum(metrics, "search_snapshots_closed_total"));
        swapping.put("served_checkpoints", service.servedCheckpoints());
        out.put("swapping", swapping);
        out.put("store_after", sizeOf(folder));
        out.put("load_average_after", Folders.loadAverage());

        Files.createDirectories(report.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(report.toFile(), out);
        System.out.println();
        System.out.println("| products | shards | clients | k | seconds | requests | qps | p50 ms | p95 ms | p99 ms | max ms | failed | publications | swaps |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        System.out.printf(Locale.ROOT, "| %,d | %d | %d | %d | %d | %,d | %,.0f | %.2f | %.2f | %.2f | %.1f | %d | %d | %d |%n",
            products, shards, clients, k, seconds, result.requests(), result.qps(), result.p50Ms(), result.p95Ms(),
            result.p99Ms(), result.maxMs(), result.failedRequests(), publications.get(), swaps);
        System.out.println();
        log("%s; %d swaps, %s load failures, %s retries; %d snapshots open after (of %d shards); report: %s",
            result.summary(), swaps, swapping.get("load_failures"), swapping.get("load_retries"), open, shards,
            report.toAbsolutePath());
        if (!result.failureSamples().isEmpty()) {
          log("failures, first ones: %s", result.failureSamples());
        }
      }
    } finally {
      Folders.deleteRecursively(folder);
    }
  }

  private static String imageUrl(int i) {
    return "https://images.example.com/products/p" + i + ".png";
  }

  /** Waits {@code duration}, or less once {@code stop} is set. */
  private static void pause(Duration duration, AtomicBoolean stop) {
    long end = System.nanoTime() + duration.toNanos();
    try {
      while (!stop.get() && System.nanoTime() < end) {
        Thread.sleep(Math.min(50, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String fetch(URI uri) throws IOException {
    try (InputStream in = uri.toURL().openStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The sum of every sample of a metric in Prometheus text. */
  static double metricSum(String metrics, String name) {
    double sum = 0;
    for (String row : metrics.split("\n")) {
      if (row.startsWith(name + " ") || row.startsWith(name + "{")) {
        sum += Double.parseDouble(row.substring(row.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  private static String sizeOf(Path folder) {
    try (Stream<Path> files = Files.walk(folder)) {
      long[] countAndBytes = new long[2];
      files.filter(Files::isRegularFile).forEach(f -> {
        countAndBytes[0]++;
        countAndBytes[1] += f.toFile().length();
      });
      return String.format(Locale.ROOT, "%d files, %.1f MB in the store", countAndBytes[0], countAndBytes[1] / 1e6);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }

  private static void log(String format, Object... args) {
    System.err.printf(Locale.ROOT, "[bench-search] " + format + "%n", args);
  }
}
