package dev.similarity.embedding.tools;

import dev.similarity.embedding.DeviceSelection;
import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageDecodingException;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.internal.DjlEmbeddingModel;
import dev.similarity.embedding.internal.Folders;
import dev.similarity.embedding.internal.PreparedBatch;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * {@code scripts/bench-models}: images/s of one or more embedding models at batch 1, 16 and 64,
 * from JPEG bytes of 640x480 photo-like images (decode + resize + normalise + model + L2, as the
 * job embeds) and for the model call alone, printed and written as JSON.
 */
public final class BenchModels {

  static final int[] BATCH_SIZES = {1, 16, 64};

  private static final String USAGE = """
      usage: bench-models --models DIR[,DIR...] [--report FILE] [--seconds S] [--threads N] [--device cpu|gpu|auto]
        --models DIR,...  model folders (SavedModel + model.json)
        --report FILE     JSON report (default: print only)
        --seconds S       timed seconds per model and batch size after one warm-up call (default 5)
        --threads N       TensorFlow intra-op threads (default: TensorFlow's choice, all cores)
        --device D        cpu (default), gpu or auto
      """;

  private BenchModels() {}

  public static void main(String[] args) {
    try {
      Arguments a = Arguments.parse(args, USAGE, List.of("--models", "--report", "--seconds", "--threads", "--device"),
          List.of());
      List<Path> models = new ArrayList<>();
      for (String dir : a.require("--models").split(",")) {
        models.add(Path.of(dir.trim()));
      }
      Map<String, Object> report = bench(models, a.getFloat("--seconds", 5f), a.getInt("--threads", 0),
          DeviceSelection.valueOf(a.get("--device", "cpu").toUpperCase(Locale.ROOT)));
      if (a.has("--report")) {
        Path file = Path.of(a.require("--report"));
        if (file.getParent() != null) {
          Files.createDirectories(file.getParent());
        }
        Files.writeString(file, new com.fasterxml.jackson.databind.ObjectMapper()
            .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(report) + "\n");
        System.out.println("report: " + file);
      }
    } catch (Arguments.UsageException e) {
      System.err.println(e.getMessage());
      System.exit(2);
    } catch (IllegalArgumentException | IllegalStateException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    } catch (IOException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  /** Measures every model in turn; the report has one entry per model id. */
  static Map<String, Object> bench(List<Path> models, float seconds, int threads, DeviceSelection device) {
    List<byte[]> photos = photos(64);
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("note", "images/s from 640x480 JPEG bytes: decode + resize + normalise + model + L2 through "
        + "ImageEmbedder.embedBatch; one warm-up call, then calls for about --seconds (at least 3), rate = batch "
        + "/ median call time; model_only_images_per_s: the same images already decoded, resized and normalised, "
        + "the model call alone (DJL predictor)");
    report.put("device", device.name().toLowerCase(Locale.ROOT));
    report.put("cores", Runtime.getRuntime().availableProcessors());
    report.put("intra_op_threads", threads);
    report.put("load_average_at_start", Folders.loadAverage());
    Map<String, Object> results = new LinkedHashMap<>();
    for (Path dir : models) {
      ImageEmbedderConfig config = ImageEmbedderConfig.builder().modelDir(dir).device(device).maxBatchSize(64)
          .intraOpThreads(threads).build();
      try (ImageEmbedder embedder = ImageEmbedder.load(config)) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("dimension", embedder.dimension());
        model.put("input", embedder.descriptor().inputHeight() + "x" + embedder.descriptor().inputWidth() + "x"
            + embedder.descriptor().inputChannels());
        model.put("device", embedder.device().name().toLowerCase(Locale.ROOT));
        Map<String, Double> rates = new LinkedHashMap<>();
        Map<String, Double> modelOnly = new LinkedHashMap<>();
        try (DjlEmbeddingModel djl = DjlEmbeddingModel.load(config)) {
          for (int batch : BATCH_SIZES) {
            List<byte[]> images = photos.subList(0, batch);
            double rate = rate(() -> check(embedder.embedBatch(images)), batch, seconds);
            PreparedBatch prepared = djl.translator().newBatch(batch);
            for (int i = 0; i < batch; i++) {
              try {
                djl.translator().prepare(images.get(i), prepared, i);
              } catch (ImageDecodingException e) {
                throw new IllegalStateException("a benchmark photo did not decode: " + e.getMessage(), e);
              }
            }
            PreparedBatch full = prepared.withCount(batch);
            double model0 = rate(() -> djl.predict(full), batch, seconds);
            rates.put(Integer.toString(batch), Math.round(rate * 10) / 10.0);
            modelOnly.put(Integer.toString(batch), Math.round(model0 * 10) / 10.0);
            System.out.printf(Locale.ROOT, "%-32s batch %2d: %8.1f images/s from JPEG bytes, %8.1f model only%n",
                embedder.modelId(), batch, rate, model0);
          }
        }
        model.put("images_per_s", rates);
        model.put("model_only_images_per_s", modelOnly);
        results.put(embedder.modelId(), model);
      }
    }
    report.put("models", results);
    report.put("load_average_at_end", Folders.loadAverage());
    return report;
  }

  private static void check(List<EmbeddingResult> results) {
    for (EmbeddingResult r : results) {
      if (!r.isSuccess()) {
        throw new IllegalStateException("a benchmark photo did not embed: " + r.error().getMessage());
      }
    }
  }

  private static double rate(Runnable call, int images, float seconds) {
    call.run();
    List<Long> nanos = new ArrayList<>();
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    while (nanos.size() < 3 || System.nanoTime() < deadline) {
      long start = System.nanoTime();
      call.run();
      nanos.add(System.nanoTime() - start);
    }
    List<Long> sorted = nanos.stream().sorted().toList();
    return images / (sorted.get(sorted.size() / 2) / 1e9);
  }

  // Photo-like JPEGs: a lit background gradient, a few coloured shapes, sensor noise.
  static List<byte[]> photos(int count) {
    List<byte[]> out = new ArrayList<>();
    for (int n = 0; n < count; n++) {
      SplittableRandom random = new SplittableRandom(n);
      BufferedImage image = new BufferedImage(640, 480, BufferedImage.TYPE_INT_RGB);
      Graphics2D g = image.createGraphics();
      g.setPaint(new java.awt.GradientPaint(0, 0, new Color(random.nextInt(0x1000000)), 640, 480,
          new Color(random.nextInt(0x1000000))));
      g.fillRect(0, 0, 640, 480);
      for (int s = 0; s < 4; s++) {
        g.setColor(new Color(random.nextInt(0x1000000)));
        g.fillOval(random.nextInt(480), random.nextInt(320), 60 + random.nextInt(200), 60 + random.nextInt(200));
      }
      g.dispose();
      for (int i = 0; i < 20_000; i++) {
        image.setRGB(random.nextInt(640), random.nextInt(480), random.nextInt(0x1000000));
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try {
        ImageIO.write(image, "jpg", bytes);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      out.add(bytes.toByteArray());
    }
    return out;
  }
}
