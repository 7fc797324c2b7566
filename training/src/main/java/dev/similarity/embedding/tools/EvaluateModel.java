package dev.similarity.embedding.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageDecodingException;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.embedding.evaluation.RetrievalMetrics;
import dev.similarity.embedding.internal.DirectSessionModel;
import dev.similarity.embedding.internal.DjlEmbeddingModel;
import dev.similarity.embedding.internal.EmbeddingTranslator;
import dev.similarity.embedding.internal.Folders;
import dev.similarity.embedding.internal.PreparedBatch;
import dev.similarity.embedding.internal.Vectors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tensorflow.TensorFlow;
import org.tensorflow.proto.ConfigProto;

/**
 * {@code scripts/eval-model}: retrieval quality of a model on Fashion-MNIST's 10,000 test images
 * (leave-one-out, exact search) and embedding throughput through DJL against the same SavedModel
 * called directly through TF Java's session API. Writes a JSON report and a markdown table next
 * to it.
 */
public final class EvaluateModel {

  private static final String USAGE = """
      usage: eval-model --report FILE.json [--model DIR] [--limit N] [--seconds S] [--threads N]
        --report FILE.json  where to write the report; FILE.md gets the same numbers as tables
        --model DIR         model folder (default models/fashion-mnist-similarity)
        --limit N           evaluate on the first N test images only (default all 10,000)
        --seconds S         timed seconds per throughput measurement and path (default 2)
        --threads N         threads for the exact neighbour search (default: all cores)
        --skip-throughput   quality only
      """;
  static final int[] BATCH_SIZES = {1, 16, 64, 256};
  private static final int MIN_CALLS = 5;

  private EvaluateModel() {}

  public static void main(String[] args) {
    try {
      Arguments a = Arguments.parse(args, USAGE,
          List.of("--report", "--model", "--limit", "--seconds", "--threads"), List.of("--skip-throughput"));
      Path report = Path.of(a.require("--report"));
      if (!report.getFileName().toString().endsWith(".json")) {
        throw new Arguments.UsageException("--report must name a .json file\n" + USAGE);
      }
      Path modelDir = Path.of(a.get("--model", "models/fashion-mnist-similarity"));
      int threads = a.getInt("--threads", Runtime.getRuntime().availableProcessors());
      Map<String, Object> result = evaluate(modelDir, a.getInt("--limit", Integer.MAX_VALUE),
          a.getFloat("--seconds", 2f), threads, !a.has("--skip-throughput"));
      write(report, result);
    } catch (Arguments.UsageException e) {
      System.err.println(e.getMessage());
      System.exit(2);
    } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  static Map<String, Object> evaluate(Path modelDir, int limit, float seconds, int threads, boolean throughput) {
    Map<String, Object> report = new LinkedHashMap<>();
    String loadBefore = Folders.loadAverage();
    FashionMnist test = FashionMnist.load(FashionMnist.Split.TEST);
    int n = Math.min(limit, test.size());
    List<byte[]> pngs = new ArrayList<>(n);
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      pngs.add(test.png(i));
      labels[i] = test.label(i);
    }
    ImageEmbedderConfig config = ImageEmbedderConfig.builder().modelDir(modelDir).build();

    long loadStart = System.nanoTime();
    try (ImageEmbedder embedder = ImageEmbedder.load(config)) {
      double loadMs = (System.nanoTime() - loadStart) / 1e6;
      log("loaded %s in %.0f ms (TensorFlow %s, device %s)", embedder.modelId(), loadMs,
          TensorFlow.version(), embedder.device());

      long embedStart = System.nanoTime();
      float[][] vectors = new float[n][];
      for (int from = 0; from < n; from += 256) {
        List<EmbeddingResult> results = embedder.embedBatch(pngs.subList(from, Math.min(n, from + 256)));
        for (int i = 0; i < results.size(); i++) {
          vectors[from + i] = results.get(i).vector();
        }
      }
      double embedSeconds = (System.nanoTime() - embedStart) / 1e9;
      log("embedded %d test images in %.1f s", n, embedSeconds);

      long metricsStart = System.nanoTime();
      RetrievalMetrics m = RetrievalMetrics.compute(vectors, labels, FashionMnist.CLASSES, threads);
      double metricsSeconds = (System.nanoTime() - metricsStart) / 1e9;
      log("precision@1 %.4f  @5 %.4f  @10 %.4f  recall@10 %.4f  MAP@R %.4f  k-NN accuracy %.4f (%.1f s)",
          m.precisionAt1(), m.precisionAt5(), m.precisionAt10(), m.recallAt10(), m.mapAtR(), m.knnAccuracy(),
          metricsSeconds);

      report.put("model_id", embedder.modelId());
      report.put("model_dir", modelDir.toString());
      report.put("dataset", "fashion-mnist test split, gallery = the same images, query excluded");
      report.put("test_images", n);
      report.put("embedding_dimension", embedder.dimension());
      report.put("precision_at_1", round(m.precisionAt1()));
      report.put("precision_at_5", round(m.precisionAt5()));
      report.put("precision_at_10", round(m.precisionAt10()));
      report.put("recall_at_10", round(m.recallAt10()));
      report.put("map_at_r", round(m.mapAtR()));
      report.put("knn_accuracy", round(m.knnAccuracy()));
      report.put("knn_k", RetrievalMetrics.VOTE_K);
      report.put("confusion_matrix", m.confusionMatrix());
      List<String> categories = new ArrayList<>();
      for (int c = 0; c < FashionMnist.CLASSES; c++) {
        categories.add(FashionMnist.categoryName(c));
      }
      report.put("confusion_matrix_labels", categories);
      report.put("model_load_ms", Math.round(loadMs));
      report.put("model_load_note", "model_load_ms: first ImageEmbedder.load in a fresh JVM, including "
          + "TensorFlow's native start-up; model_load_warm_ms: a second load through DJL; "
          + "tf_session_model_load_ms: the same SavedModel through SavedModelBundle");
      if (throughput) {
        measureThroughput(report, embedder, config, pngs, seconds);
      }
      report.put("embed_test_split_seconds", round1(embedSeconds));
      report.put("device", embedder.device().name());
      report.put("tensorflow_version", TensorFlow.version());
      report.put("java_version", System.getProperty("java.version"));
      report.put("cpu_cores", Runtime.getRuntime().availableProcessors());
      report.put("load_average_before", loadBefore);
      report.put("load_average_after", Folders.loadAverage());
      report.put("generated_at", Instant.now().toString());
      report.put("bars", bars(report));
    }
    return report;
  }

  /**
   * Interleaves the three paths round by round and keeps each path's median, so that other load
   * on a shared machine hits all of them alike.
   */
  private static void measureThroughput(Map<String, Object> report, ImageEmbedder embedder,
      ImageEmbedderConfig config, List<byte[]> pngs, float seconds) {
    Map<String, Double> endToEnd = new LinkedHashMap<>();
    Map<String, Double> sessionEndToEnd = new LinkedHashMap<>();
    Map<String, Double> djlModelOnly = new LinkedHashMap<>();
    Map<String, Double> sessionModelOnly = new LinkedHashMap<>();
    ConfigProto sessionConfig = ConfigProto.newBuilder().putDeviceCount("GPU", 0).build();
    // Both loads find TensorFlow already initialised, so their times compare like with like.
    long djlLoadStart = System.nanoTime();
    DjlEmbeddingModel djl = DjlEmbeddingModel.load(config);
    long sessionLoadStart = System.nanoTime();
    DirectSessionModel session;
    try {
      session = DirectSessionModel.load(config.modelDir(), sessionConfig);
    } catch (RuntimeException e) {
      djl.close();
      throw e;
    }
    report.put("model_load_warm_ms", Math.round((sessionLoadStart - djlLoadStart) / 1e6));
    report.put("tf_session_model_load_ms", Math.round((System.nanoTime() - sessionLoadStart) / 1e6));
    try (djl; session) {
      EmbeddingTranslator translator = djl.translator();
      for (int batchSize : BATCH_SIZES) {
        List<byte[]> images = pngs.subList(0, Math.min(batchSize, pngs.size()));
        int b = images.size();
        PreparedBatch prepared = translator.newBatch(b);
        for (int i = 0; i < b; i++) {
          prepareOrFail(translator, images.get(i), prepared, i);
        }
        prepared.withCount(b);
        PreparedBatch scratch = translator.newBatch(b);
        List<Runnable> paths = List.of(
            () -> embedder.embedBatch(images),
            () -> {
              for (int i = 0; i < b; i++) {
                prepareOrFail(translator, images.get(i), scratch, i);
              }
              for (float[] v : session.run(scratch.values(), b)) {
                Vectors.l2Normalise(v);
              }
            },
            () -> djl.predict(prepared),
            () -> {
              for (float[] v : session.run(prepared.values(), b)) {
                Vectors.l2Normalise(v);
              }
            });
        double[] rates = measure(paths, b, seconds);
        String key = Integer.toString(batchSize);
        endToEnd.put(key, round1(rates[0]));
        sessionEndToEnd.put(key, round1(rates[1]));
        djlModelOnly.put(key, round1(rates[2]));
        sessionModelOnly.put(key, round1(rates[3]));
        log("batch %3d: DJL %7.0f images/s vs TF session %7.0f (from PNG bytes); model only: DJL %7.0f vs %7.0f",
            batchSize, endToEnd.get(key), sessionEndToEnd.get(key), djlModelOnly.get(key), sessionModelOnly.get(key));
      }
    }
    report.put("throughput_images_per_s", endToEnd);
    report.put("tf_session_throughput_images_per_s", sessionEndToEnd);
    report.put("throughput_note", "images/s from PNG bytes: decode + resize + normalise + model + L2; "
        + "both paths share the decoder, only the model call differs (DJL predictor vs TF Java session); "
        + "after 0.3 s warm-up per path the paths take turns call by call; rate = batch / median call time");
    report.put("model_only_throughput_images_per_s", Map.of("djl", djlModelOnly, "tf_session", sessionModelOnly));
    report.put("djl_vs_tf_session_ratio", ratios(endToEnd, sessionEndToEnd));
    report.put("djl_vs_tf_session_ratio_model_only", ratios(djlModelOnly, sessionModelOnly));
  }

  private static void prepareOrFail(EmbeddingTranslator translator, byte[] png, PreparedBatch batch, int i) {
    try {
      translator.prepare(png, batch, i);
    } catch (ImageDecodingException e) {
      throw new IllegalStateException("a Fashion-MNIST PNG did not decode: " + e.getMessage(), e);
    }
  }

  /**
   * Images per second of each path (one call = {@code images} images): the paths take turns call
   * by call for about {@code seconds} each, and each rate comes from the path's median call time,
   * so load from other processes on a shared machine hits all paths alike and a preempted call
   * does not skew the result.
   */
  static double[] measure(List<Runnable> paths, int images, double seconds) {
    for (Runnable path : paths) {
      long warmUntil = System.nanoTime() + 300_000_000L;
      do {
        path.run();
      } while (System.nanoTime() < warmUntil);
    }
    List<List<Long>> callNanos = new ArrayList<>();
    paths.forEach(p -> callNanos.add(new ArrayList<>()));
    long deadline = System.nanoTime() + (long) (seconds * paths.size() * 1e9);
    int rounds = 0;
    while (rounds < MIN_CALLS || System.nanoTime() < deadline) {
      for (int p = 0; p < paths.size(); p++) {
        long start = System.nanoTime();
        paths.get(p).run();
        callNanos.get(p).add(System.nanoTime() - start);
      }
      rounds++;
    }
    double[] rates = new double[paths.size()];
    for (int p = 0; p < paths.size(); p++) {
      List<Long> sorted = callNanos.get(p).stream().sorted().toList();
      rates[p] = images / (sorted.get(sorted.size() / 2) / 1e9);
    }
    return rates;
  }

  private static Map<String, Double> ratios(Map<String, Double> djl, Map<String, Double> session) {
    Map<String, Double> out = new LinkedHashMap<>();
    djl.forEach((k, v) -> out.put(k, round(v / session.get(k))));
    return out;
  }

  private static Map<String, Object> bars(Map<String, Object> report) {
    Map<String, Object> bars = new LinkedHashMap<>();
    bars.put("precision_at_10_at_least_0.85", (double) report.get("precision_at_10") >= 0.85);
    bars.put("knn_accuracy_at_least_0.90", (double) report.get("knn_accuracy") >= 0.90);
    @SuppressWarnings("unchecked")
    Map<String, Double> ratio = (Map<String, Double>) report.get("djl_vs_tf_session_ratio");
    if (ratio != null) {
      bars.put("djl_batch_64_within_15_percent_of_tf_session", ratio.get("64") >= 0.85);
    }
    return bars;
  }

  private static double round(double v) {
    return Math.round(v * 10_000) / 10_000.0;
  }

  private static double round1(double v) {
    return Math.round(v * 10) / 10.0;
  }

  private static void log(String format, Object... args) {
    System.out.println(String.format(Locale.ROOT, format, args));
  }

  static void write(Path report, Map<String, Object> result) {
    try {
      if (report.toAbsolutePath().getParent() != null) {
        Files.createDirectories(report.toAbsolutePath().getParent());
      }
      ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      Files.writeString(report, json.writeValueAsString(result) + "\n");
      String name = report.getFileName().toString();
      Path markdown = report.resolveSibling(name.substring(0, name.length() - ".json".length()) + ".md");
      Files.writeString(markdown, EvaluationMarkdown.render(result));
      log("wrote %s and %s", report, markdown);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report " + report, e);
    }
  }
}
