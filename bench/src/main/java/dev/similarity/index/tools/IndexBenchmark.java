package dev.similarity.index.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.similarity.index.ProductVector;
import dev.similarity.index.ScoredProduct;
import dev.similarity.index.SearchOptions;
import dev.similarity.index.ShardIndex;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.apache.lucene.util.VectorUtil;

/**
 * Measures a {@link ShardIndex} single-threaded: build time, queries per second and recall@k
 * against exact search, (a) while writes stream in through the pending buffer and refresh policy,
 * for each merge policy asked for, (b) after {@code forceMerge(1)}, and (c) after a {@code
 * bulkLoad}. Writes a JSON report and prints a summary.
 *
 * <p>The streaming phase inserts every base vector with {@code upsert}, then runs a churn phase:
 * each write re-upserts a random product with its own vector (a catalogue update that keeps the
 * image) followed by {@code --queries-per-write} searches. The live set never changes, so the exact
 * neighbours computed once stay the truth throughout, while overwrites exercise hiding, the pending
 * buffer, deletions inside segments and merges. The quiet shard is swept twice: one query per call,
 * and in batches through {@code search(float[][], ...)}.
 *
 * <pre>
 * IndexBenchmark (--vectors FILE.npy | --random N --dim D [--clusters C] [--spread S])
 *     --report FILE.json
 *     [--queries 1000] [--k 10] [--candidates 100] [--sweep 10,20,50,100,200]
 *     [--churn-writes 20000] [--queries-per-write 10]
 *     [--policies tuned,lucene-default,SEGMENTS_PER_TIER:FLOOR_MB:DELETES_PCT]
 *     [--max-conn 16] [--beam-width 100] [--refresh-threshold 2000] [--refresh-max-age-ms 2000]
 *     [--seed 42] [--export-dir DIR] [--skip-bulk]
 * </pre>
 *
 * With {@code --vectors}, the last {@code --queries} rows are the queries and the rest the base;
 * rows are L2-normalised. {@code --export-dir} receives base.npy, queries.npy and truth.npy (exact
 * top-k rows) for peer libraries.
 */
public final class IndexBenchmark {

  private static final int WARMUP_QUERIES = 300;
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
  private static final long PROGRESS_EVERY_NANOS = 5_000_000_000L;

  private final Settings settings;
  private final float[][] base;
  private final float[][] queries;
  private final int[][] truthRows;
  private final Map<String, Object> report = new LinkedHashMap<>();

  private IndexBenchmark(Settings settings, float[][] base, float[][] queries, int[][] truthRows) {
    this.settings = settings;
    this.base = base;
    this.queries = queries;
    this.truthRows = truthRows;
  }

  record Settings(
      Path vectors,
      int randomCount,
      int dimension,
      int clusters,
      double spread,
      int queries,
      int k,
      int candidates,
      int[] sweep,
      int churnWrites,
      int queriesPerWrite,
      List<String> policies,
      int maxConn,
      int beamWidth,
      int refreshPendingThreshold,
      long refreshMaxAgeMillis,
      long seed,
      Path report,
      Path exportDir,
      boolean skipBulk) {}

  public static void main(String[] args) throws Exception {
    Settings settings;
    try {
      settings = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.println(
          "usage: IndexBenchmark (--vectors FILE.npy | --random N --dim D [--clusters C] [--spread S])"
              + " --report FILE.json [--queries Q] [--k K] [--candidates C] [--sweep 10,20,50]"
              + " [--churn-writes W] [--queries-per-write R] [--policies tuned,lucene-default]"
              + " [--max-conn M] [--beam-width B] [--refresh-threshold N] [--refresh-max-age-ms T]"
              + " [--seed S] [--export-dir DIR] [--skip-bulk]");
      System.exit(2);
      return;
    }
    run(settings);
  }

  static void run(Settings settings) throws IOException {
    Map<String, Object> dataset = new LinkedHashMap<>();
    float[][] base;
    float[][] queries;
    if (settings.vectors() != null) {
      float[][] all = NpyFiles.readFloatMatrix(settings.vectors());
      if (all.length <= settings.queries()) {
        throw new IllegalArgumentException(
            settings.vectors() + " has " + all.length + " rows; need more than --queries " + settings.queries());
      }
      int notUnit = 0;
      for (float[] row : all) {
        double norm = Math.sqrt(VectorUtil.dotProduct(row, row));
        if (Math.abs(norm - 1) > 1e-3) {
          notUnit++;
        }
        if (norm > 0) {
          VectorUtil.l2normalize(row);
        }
      }
      base = Arrays.copyOfRange(all, 0, all.length - settings.queries());
      queries = Arrays.copyOfRange(all, all.length - settings.queries(), all.length);
      dataset.put("source", settings.vectors().toString());
      dataset.put("rows_normalised_here", notUnit);
    } else {
      ClusteredUnitVectors generator =
          new ClusteredUnitVectors(
              settings.dimension(), settings.clusters(), settings.spread(), settings.seed());
      base = generator.next(settings.randomCount());
      queries = generator.next(settings.queries());
      dataset.put(
          "source",
          "random clustered unit vectors (clusters="
              + settings.clusters()
              + ", spread="
              + settings.spread()
              + ", seed="
              + settings.seed()
              + ")");
    }
    dataset.put("base", base.length);
    dataset.put("dimension", base[0].length);
    dataset.put("queries", queries.length);
    dataset.put("k", settings.k());

    log("computing exact top-%d of %,d queries over %,d vectors", settings.k(), queries.length, base.length);
    long start = System.nanoTime();
    int[][] truth = ExactNeighbours.topRows(base, queries, settings.k());
    double exactSeconds = seconds(System.nanoTime() - start);
    dataset.put("exact_search_seconds_all_cores", round(exactSeconds, 2));

    if (settings.exportDir() != null) {
      Files.createDirectories(settings.exportDir());
      NpyFiles.writeFloatMatrix(settings.exportDir().resolve("base.npy"), base);
      NpyFiles.writeFloatMatrix(settings.exportDir().resolve("queries.npy"), queries);
      NpyFiles.writeIntMatrix(settings.exportDir().resolve("truth.npy"), truth);
    }

    IndexBenchmark benchmark = new IndexBenchmark(settings, base, queries, truth);
    benchmark.report.put("dataset", dataset);
    benchmark.report.put("machine", machine());
    benchmark.report.put("settings", benchmark.settingsReport());
    benchmark.runAll();
    benchmark.writeReport();
  }

  private void runAll() {
    List<Map<String, Object>> streaming = new ArrayList<>();
    report.put("streaming", streaming);
    ShardIndex first = null;
    for (String policy : settings.policies()) {
      ShardIndex index = builder(policy).build();
      streaming.add(streamingPhase(policy, index));
      if (first == null) {
        first = index;
      } else {
        index.close();
      }
    }
    try (ShardIndex index = first) {
      report.put("force_merged", forceMergedPhase(index));
    }
    if (!settings.skipBulk()) {
      try (ShardIndex index = builder(settings.policies().get(0)).build()) {
        report.put("bulk_load", bulkLoadPhase(index));
      }
    }
  }

  private ShardIndex.Builder builder(String policy) {
    ShardIndex.Builder builder =
        ShardIndex.builder()
            .dimension(base[0].length)
            .maxConn(settings.maxConn())
            .beamWidth(settings.beamWidth())
            .searchCandidates(settings.candidates())
            .refreshPendingThreshold(settings.refreshPendingThreshold())
            .refreshMaxAge(Duration.ofMillis(settings.refreshMaxAgeMillis()));
    return switch (policy) {
      case "tuned" -> builder;
      // TieredMergePolicy's own defaults in Lucene 10.3.
      case "lucene-default" ->
          builder.mergeSegmentsPerTier(8).mergeFloorSegmentMb(16).mergeDeletesPctAllowed(20);
      default -> {
        String[] parts = policy.split(":");
        if (parts.length != 3) {
          throw new IllegalArgumentException(
              "unknown --policies entry '"
                  + policy
                  + "'; use tuned, lucene-default or segmentsPerTier:floorMb:deletesPct");
        }
        yield builder
            .mergeSegmentsPerTier(Double.parseDouble(parts[0]))
            .mergeFloorSegmentMb(Double.parseDouble(parts[1]))
            .mergeDeletesPctAllowed(Double.parseDouble(parts[2]));
      }
    };
  }

  private Map<String, Object> streamingPhase(String policy, ShardIndex index) {
    String label = "stream " + policy;
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("policy", policy);
    log("[%s] upserting %,d vectors one by one", label, base.length);
    long start = System.nanoTime();
    long lastProgress = start;
    for (int row = 0; row < base.length; row++) {
      index.upsert(idOf(row), base[row], null);
      long now = System.nanoTime();
      if (now - lastProgress > PROGRESS_EVERY_NANOS) {
        lastProgress = now;
        log("[%s] %,d/%,d upserts, %,.0f/s, %d segments", label, row + 1, base.length,
            (row + 1) / seconds(now - start), index.segmentCount());
      }
    }
    double buildSeconds = seconds(System.nanoTime() - start);
    result.put("build_seconds", round(buildSeconds, 2));
    result.put("build_upserts_per_second", Math.round(base.length / buildSeconds));
    result.put("after_build", statsReport(index.stats()));

    Map<String, Object> churn = churn(label, index);
    result.put("churn", churn);
    result.put("after_churn", statsReport(index.stats()));
    index.refresh();
    result.put("quiet_sweep", sweep(label + " quiet", index));
    result.put("quiet_sweep_batched", batchedSweep(label + " quiet, batched", index));
    result.put("quiet_segments", index.segmentCount());
    return result;
  }

  private Map<String, Object> churn(String label, ShardIndex index) {
    int writes = settings.churnWrites();
    int perWrite = settings.queriesPerWrite();
    int total = writes * perWrite;
    warmUp(index, SearchOptions.NONE);
    SplittableRandom random = new SplittableRandom(settings.seed() + 1);
    long[] latencies = new long[total];
    double recallSum = 0;
    long writeNanos = 0;
    long queryCpuNanos = 0;
    int minSegments = Integer.MAX_VALUE;
    int maxSegments = 0;
    long segmentSum = 0;
    long pendingSum = 0;
    ShardIndex.Stats before = index.stats();
    log("[%s] churn: %,d overwrites, %d queries after each", label, writes, perWrite);
    long start = System.nanoTime();
    long lastProgress = start;
    int q = 0;
    for (int w = 0; w < writes; w++) {
      int row = random.nextInt(base.length);
      long t0 = System.nanoTime();
      index.upsert(idOf(row), base[row], null);
      writeNanos += System.nanoTime() - t0;
      for (int i = 0; i < perWrite; i++, q++) {
        int query = q % queries.length;
        long c1 = cpuNanos();
        long t1 = System.nanoTime();
        List<ScoredProduct> found = index.search(queries[query], settings.k(), SearchOptions.NONE);
        latencies[q] = System.nanoTime() - t1;
        queryCpuNanos += cpuNanos() - c1;
        recallSum += recall(query, found);
        ShardIndex.Stats stats = index.stats();
        minSegments = Math.min(minSegments, stats.segments());
        maxSegments = Math.max(maxSegments, stats.segments());
        segmentSum += stats.segments();
        pendingSum += stats.pendingVectors();
      }
      long now = System.nanoTime();
      if (now - lastProgress > PROGRESS_EVERY_NANOS) {
        lastProgress = now;
        log("[%s] churn %,d/%,d writes, recall so far %.3f, %d segments", label, w + 1, writes,
            recallSum / q, index.segmentCount());
      }
    }
    double wallSeconds = seconds(System.nanoTime() - start);
    ShardIndex.Stats after = index.stats();
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("writes", writes);
    result.put("queries", total);
    result.put("wall_seconds", round(wallSeconds, 2));
    result.putAll(latencyReport(latencies, queryCpuNanos));
    result.put("recall", round(recallSum / total, 4));
    result.put("write_mean_us", round(writeNanos / 1e3 / writes, 1));
    result.put("segments_min", minSegments);
    result.put("segments_mean", round(segmentSum / (double) total, 2));
    result.put("segments_max", maxSegments);
    result.put("pending_mean", round(pendingSum / (double) total, 1));
    result.put("refreshes", after.refreshes() - before.refreshes());
    result.put("refresh_ms_total", after.refreshMillis() - before.refreshMillis());
    result.put("merges", after.mergesCompleted() - before.mergesCompleted());
    result.put("merge_cpu_seconds", round((after.mergeCpuMillis() - before.mergeCpuMillis()) / 1e3, 2));
    log("[%s] churn: %,.0f QPS (%,.0f by CPU time), recall@%d %.3f, segments %d..%d", label,
        result.get("qps"), result.get("cpu_qps"), settings.k(), recallSum / total, minSegments,
        maxSegments);
    return result;
  }

  private Map<String, Object> forceMergedPhase(ShardIndex index) {
    Map<String, Object> result = new LinkedHashMap<>();
    log("[force-merge] merging %,d vectors into one segment", index.size());
    long start = System.nanoTime();
    index.forceMerge(1);
    result.put("force_merge_seconds", round(seconds(System.nanoTime() - start), 2));
    result.put("segments", index.segmentCount());
    result.put("sweep", sweep("force-merged", index));
    return result;
  }

  private Map<String, Object> bulkLoadPhase(ShardIndex index) {
    Map<String, Object> result = new LinkedHashMap<>();
    List<ProductVector> products = new ArrayList<>(base.length);
    for (int row = 0; row < base.length; row++) {
      products.add(new ProductVector(idOf(row), base[row], null));
    }
    log("[bulk] bulk-loading %,d vectors", base.length);
    long start = System.nanoTime();
    index.bulkLoad(products);
    double seconds = seconds(System.nanoTime() - start);
    result.put("build_seconds", round(seconds, 2));
    result.put("segments", index.segmentCount());
    result.put("sweep", sweep("bulk", index, settings.candidates()));
    return result;
  }

  private List<Map<String, Object>> sweep(String label, ShardIndex index) {
    return sweep(label, index, settings.sweep());
  }

  /** QPS and recall over all queries, no writes, for each candidate count. */
  private List<Map<String, Object>> sweep(String label, ShardIndex index, int... candidateCounts) {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int candidates : candidateCounts) {
      SearchOptions options = SearchOptions.NONE.candidates(Math.max(candidates, settings.k()));
      warmUp(index, options);
      long[] latencies = new long[queries.length];
      double recallSum = 0;
      long cpuStart = cpuNanos();
      for (int q = 0; q < queries.length; q++) {
        long t0 = System.nanoTime();
        List<ScoredProduct> found = index.search(queries[q], settings.k(), options);
        latencies[q] = System.nanoTime() - t0;
        recallSum += recall(q, found);
      }
      long queryCpuNanos = cpuNanos() - cpuStart;
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("candidates", candidates);
      row.putAll(latencyReport(latencies, queryCpuNanos));
      row.put("recall", round(recallSum / queries.length, 4));
      row.put("segments", index.segmentCount());
      log("[%s] candidates %d: %,.0f QPS (%,.0f by CPU time), recall@%d %.3f (%d segments)", label,
          candidates, row.get("qps"), row.get("cpu_qps"), settings.k(), recallSum / queries.length,
          index.segmentCount());
      rows.add(row);
    }
    return rows;
  }

  /**
   * As {@link #sweep}, the queries given {@value #BATCH} at a time to {@link ShardIndex#search(float[][],
   * int, SearchOptions)}, as a bulk phase would; latencies are per batch divided by its size.
   */
  private List<Map<String, Object>> batchedSweep(String label, ShardIndex index) {
    List<Map<String, Object>> rows = new ArrayList<>();
    for (int candidates : settings.sweep()) {
      SearchOptions options = SearchOptions.NONE.candidates(Math.max(candidates, settings.k()));
      warmUp(index, options);
      long[] latencies = new long[queries.length];
      double recallSum = 0;
      long cpuStart = cpuNanos();
      for (int from = 0; from < queries.length; from += BATCH) {
        float[][] batch = Arrays.copyOfRange(queries, from, Math.min(queries.length, from + BATCH));
        long t0 = System.nanoTime();
        List<List<ScoredProduct>> found = index.search(batch, settings.k(), options);
        long each = (System.nanoTime() - t0) / batch.length;
        for (int i = 0; i < batch.length; i++) {
          latencies[from + i] = each;
          recallSum += recall(from + i, found.get(i));
        }
      }
      long queryCpuNanos = cpuNanos() - cpuStart;
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("candidates", candidates);
      row.putAll(latencyReport(latencies, queryCpuNanos));
      row.put("recall", round(recallSum / queries.length, 4));
      row.put("segments", index.segmentCount());
      row.put("batch", BATCH);
      log("[%s] candidates %d: %,.0f QPS (%,.0f by CPU time), recall@%d %.3f (%d segments)", label,
          candidates, row.get("qps"), row.get("cpu_qps"), settings.k(), recallSum / queries.length,
          index.segmentCount());
      rows.add(row);
    }
    return rows;
  }

  private static final int BATCH = 100;

  private void warmUp(ShardIndex index, SearchOptions options) {
    for (int q = 0; q < WARMUP_QUERIES; q++) {
      index.search(queries[q % queries.length], settings.k(), options);
    }
  }

  private double recall(int query, List<ScoredProduct> found) {
    return ExactNeighbours.recall(ExactNeighbours.ids(truthRows[query], IndexBenchmark::idOf), found);
  }

  private static String idOf(int row) {
    return "p" + row;
  }

  /**
   * Wall-clock QPS and latencies, plus QPS by this thread's CPU time: the latter does not count
   * time the thread waited for a core, so it stays comparable on a machine shared with other work.
   */
  private static Map<String, Object> latencyReport(long[] latencies, long cpuNanos) {
    long total = 0;
    for (long l : latencies) {
      total += l;
    }
    long[] sorted = latencies.clone();
    Arrays.sort(sorted);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("qps", (double) Math.round(latencies.length / seconds(total)));
    result.put("cpu_qps", (double) Math.round(latencies.length / seconds(cpuNanos)));
    result.put("mean_us", round(total / 1e3 / latencies.length, 1));
    result.put("p50_us", round(sorted[sorted.length / 2] / 1e3, 1));
    result.put("p99_us", round(sorted[(int) (sorted.length * 0.99)] / 1e3, 1));
    return result;
  }

  private static Map<String, Object> statsReport(ShardIndex.Stats stats) {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("live", stats.liveProducts());
    result.put("pending", stats.pendingVectors());
    result.put("segments", stats.segments());
    result.put("refreshes", stats.refreshes());
    result.put("refresh_ms_total", stats.refreshMillis());
    result.put("merges", stats.mergesCompleted());
    result.put("merge_cpu_seconds", round(stats.mergeCpuMillis() / 1e3, 2));
    return result;
  }

  private Map<String, Object> settingsReport() {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("max_conn", settings.maxConn());
    result.put("beam_width", settings.beamWidth());
    result.put("search_candidates", settings.candidates());
    result.put("refresh_pending_threshold", settings.refreshPendingThreshold());
    result.put("refresh_max_age_ms", settings.refreshMaxAgeMillis());
    result.put("ram_buffer_mb", ShardIndex.Builder.DEFAULT_RAM_BUFFER_MB);
    result.put("tuned_merge_segments_per_tier", ShardIndex.Builder.DEFAULT_MERGE_SEGMENTS_PER_TIER);
    result.put(
        "tuned_merge_floor_segment_mb",
        round(
            ShardIndex.Builder.DEFAULT_MERGE_FLOOR_SEGMENT_VECTORS
                * ShardIndex.Builder.approximateBytesPerVector(base[0].length, settings.maxConn())
                / (1024.0 * 1024.0),
            1));
    result.put("tuned_merge_deletes_pct_allowed", ShardIndex.Builder.DEFAULT_MERGE_DELETES_PCT_ALLOWED);
    result.put("churn_writes", settings.churnWrites());
    result.put("queries_per_write", settings.queriesPerWrite());
    result.put("single_threaded", true);
    return result;
  }

  private static Map<String, Object> machine() {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("cores", Runtime.getRuntime().availableProcessors());
    result.put("java", System.getProperty("java.runtime.version"));
    result.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
    return result;
  }

  private void writeReport() throws IOException {
    if (settings.report().getParent() != null) {
      Files.createDirectories(settings.report().getParent());
    }
    new ObjectMapper()
        .enable(SerializationFeature.INDENT_OUTPUT)
        .writeValue(settings.report().toFile(), report);
    log("report written to %s", settings.report());
    System.out.println(summary());
  }

  @SuppressWarnings("unchecked")
  private String summary() {
    StringBuilder out = new StringBuilder();
    Map<String, Object> dataset = (Map<String, Object>) report.get("dataset");
    out.append(
        String.format(Locale.ROOT, "%n%s: %,d x %d, %,d queries, k=%d, single thread%n",
            dataset.get("source"), base.length, base[0].length, queries.length, settings.k()));
    out.append("| phase | candidates | segments | QPS (wall) | QPS (CPU) | p99 us | recall@")
        .append(settings.k())
        .append(" |\n");
    out.append("|---|---:|---:|---:|---:|---:|---:|\n");
    for (Map<String, Object> stream : (List<Map<String, Object>>) report.get("streaming")) {
      Map<String, Object> churn = (Map<String, Object>) stream.get("churn");
      out.append(
          String.format(Locale.ROOT,
              "| streaming churn, %s merges (build %.1f s) | %d | %s..%s | %,.0f | %,.0f | %.0f | %.3f |%n",
              stream.get("policy"), stream.get("build_seconds"), settings.candidates(),
              churn.get("segments_min"), churn.get("segments_max"), churn.get("qps"),
              churn.get("cpu_qps"), churn.get("p99_us"), churn.get("recall")));
      for (Map<String, Object> row : (List<Map<String, Object>>) stream.get("quiet_sweep")) {
        out.append(sweepRow("streamed, " + stream.get("policy") + ", no writes", row));
      }
      for (Map<String, Object> row : (List<Map<String, Object>>) stream.get("quiet_sweep_batched")) {
        out.append(sweepRow("streamed, " + stream.get("policy") + ", no writes, batches of " + BATCH, row));
      }
    }
    Map<String, Object> merged = (Map<String, Object>) report.get("force_merged");
    for (Map<String, Object> row : (List<Map<String, Object>>) merged.get("sweep")) {
      out.append(sweepRow("forceMerge(1) (" + merged.get("force_merge_seconds") + " s)", row));
    }
    Map<String, Object> bulk = (Map<String, Object>) report.get("bulk_load");
    if (bulk != null) {
      for (Map<String, Object> row : (List<Map<String, Object>>) bulk.get("sweep")) {
        out.append(sweepRow("bulkLoad (build " + bulk.get("build_seconds") + " s)", row));
      }
    }
    return out.toString();
  }

  private static String sweepRow(String phase, Map<String, Object> row) {
    return String.format(Locale.ROOT, "| %s | %s | %s | %,.0f | %,.0f | %.0f | %.3f |%n", phase,
        row.get("candidates"), row.get("segments"), row.get("qps"), row.get("cpu_qps"),
        row.get("p99_us"), row.get("recall"));
  }

  static Settings parse(String[] args) {
    Map<String, String> values = new LinkedHashMap<>();
    boolean skipBulk = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--skip-bulk")) {
        skipBulk = true;
        continue;
      }
      if (!arg.startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --name value, got '" + arg + "'");
      }
      values.put(arg.substring(2), args[++i]);
    }
    Function<String, Integer> intOf =
        name -> {
          try {
            return values.containsKey(name) ? Integer.parseInt(values.remove(name)) : null;
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be an integer");
          }
        };
    Path vectors = values.containsKey("vectors") ? Path.of(values.remove("vectors")) : null;
    Integer random = intOf.apply("random");
    Integer dim = intOf.apply("dim");
    if ((vectors == null) == (random == null)) {
      throw new IllegalArgumentException("give exactly one of --vectors FILE.npy or --random N --dim D");
    }
    if (random != null && (dim == null || random < 1 || dim < 1)) {
      throw new IllegalArgumentException("--random N needs --dim D, both positive");
    }
    if (!values.containsKey("report")) {
      throw new IllegalArgumentException("--report FILE.json is required");
    }
    Path report = Path.of(values.remove("report"));
    Path exportDir = values.containsKey("export-dir") ? Path.of(values.remove("export-dir")) : null;
    int[] sweep =
        Arrays.stream(values.getOrDefault("sweep", "10,20,50,100,200").split(","))
            .mapToInt(Integer::parseInt)
            .toArray();
    values.remove("sweep");
    List<String> policies = List.of(values.getOrDefault("policies", "tuned,lucene-default").split(","));
    values.remove("policies");
    Settings settings =
        new Settings(
            vectors,
            random == null ? 0 : random,
            dim == null ? 0 : dim,
            orDefault(intOf.apply("clusters"), 100),
            values.containsKey("spread") ? Double.parseDouble(values.remove("spread")) : 1.0,
            orDefault(intOf.apply("queries"), 1000),
            orDefault(intOf.apply("k"), 10),
            orDefault(intOf.apply("candidates"), ShardIndex.Builder.DEFAULT_SEARCH_CANDIDATES),
            sweep,
            orDefault(intOf.apply("churn-writes"), 20_000),
            orDefault(intOf.apply("queries-per-write"), 10),
            policies,
            orDefault(intOf.apply("max-conn"), ShardIndex.Builder.DEFAULT_MAX_CONN),
            orDefault(intOf.apply("beam-width"), ShardIndex.Builder.DEFAULT_BEAM_WIDTH),
            orDefault(
                intOf.apply("refresh-threshold"),
                ShardIndex.Builder.DEFAULT_REFRESH_PENDING_THRESHOLD),
            orDefault(
                intOf.apply("refresh-max-age-ms"),
                (int) ShardIndex.Builder.DEFAULT_REFRESH_MAX_AGE.toMillis()),
            orDefault(intOf.apply("seed"), 42),
            report,
            exportDir,
            skipBulk);
    if (!values.isEmpty()) {
      throw new IllegalArgumentException("unknown options: --" + String.join(", --", values.keySet()));
    }
    return settings;
  }

  private static int orDefault(Integer value, int fallback) {
    return value == null ? fallback : value;
  }

  private static long cpuNanos() {
    return THREADS.getCurrentThreadCpuTime();
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }

  private static double round(double value, int digits) {
    double scale = Math.pow(10, digits);
    return Math.round(value * scale) / scale;
  }

  private static void log(String format, Object... args) {
    System.err.printf(Locale.ROOT, "[bench-index] " + format + "%n", args);
  }
}
