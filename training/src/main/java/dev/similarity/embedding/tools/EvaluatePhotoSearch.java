package dev.similarity.embedding.tools;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.embedding.evaluation.ObjectCrop;
import dev.similarity.embedding.evaluation.PhotoQueries;
import dev.similarity.embedding.evaluation.PhotoSearchMetrics;
import dev.similarity.embedding.internal.Folders;
import dev.similarity.embedding.training.HeadTrainer;
import dev.similarity.embedding.training.NetworkSpec;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.tensorflow.TensorFlow;

/**
 * {@code scripts/eval-photo-search}: photo-to-catalogue search, measured. Query photos of
 * catalogue items ({@link PhotoQueries}, from Fashion-MNIST's test split) are searched against a
 * gallery of catalogue images (the first {@code --gallery} test images), exactly, for every model,
 * with and without the {@link ObjectCrop} step; optionally a metric-learning head is trained on a
 * model's frozen features ({@link HeadTrainer}) and evaluated as one more model. Writes FILE.json
 * (key {@code models}: one row per model and crop setting) and FILE.md.
 */
public final class EvaluatePhotoSearch {

  static final String BASELINE = "fashion-mnist-cnn";

  private static final String USAGE = """
      usage: eval-photo-search --report FILE.json [--model NAME=DIR]... [--queries N] [--gallery N]
                               [--sizes NAME=QUERIES/GALLERY]... [--seed S] [--features NAME=MODEL:TENSOR]...
                               [--head NAME]... [--head-items N]
                               [--head-photos N] [--head-epochs N] [--head-network SPEC] [--head-loss LOSS]
                               [--head-dir DIR] [--threads N]
        --report FILE.json  where to write the report; FILE.md gets the same numbers as a table
        --model NAME=DIR    a model folder (SavedModel + model.json) to evaluate; repeatable. Our
                            Fashion-MNIST CNN (models/fashion-mnist-similarity) is always evaluated as
                            'fashion-mnist-cnn' unless given another DIR. A DIR without model.json is
                            reported as missing, the rest still run.
        --queries N         query photos per model (default 1000)
        --gallery N         catalogue images in the gallery, the first N of the test split (default 10000)
        --sizes NAME=Q/G    other sizes for one model (slow backbones), e.g. inception-v3=300/3000
        --seed S            seed of the photos (default 2026)
        --features NAME=MODEL:TENSOR  evaluate an inner tensor of MODEL's graph (flattened) as model NAME, e.g.
                            fashion-mnist-cnn-conv=fashion-mnist-cnn:layer6_2/Reshape (the CNN's 3,136 pooled
                            conv features); a head can be trained on it
        --head NAME         train a 128-d head on NAME's frozen features and evaluate NAME+head; repeatable
        --head-items N      training-split items the head learns from (default 2000)
        --head-photos N     photos per training item, besides its catalogue image (default 3: whole, box, cutout)
        --head-epochs N     passes over the items (default 20)
        --head-network SPEC dense layers of the head (default dense512-drop0.1-embed128)
        --head-loss LOSS    multi-similarity (default) or triplet[:margin]
        --head-dir DIR      where backbone+head SavedModels are written (default work/photo-heads)
        --threads N         threads for rendering and exact search (default: all cores)
      """;

  private EvaluatePhotoSearch() {}

  /** What is done to a query photo before embedding. */
  enum CropMode {
    /** The whole photo. */
    NONE,
    /** Cropped to the localised product's box. */
    BOX,
    /** Cropped to the box, the background around the product painted black. */
    CUTOUT;

    String text() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** What to run. */
  record Options(Map<String, Path> models, Map<String, String[]> features, int queries, int gallery,
      Map<String, int[]> sizes, long seed,
      List<String> heads, int headItems, int headPhotos, HeadTrainer.Config headConfig, Path headDir, int threads) {}

  public static void main(String[] args) {
    try {
      Arguments a = Arguments.parse(args, USAGE, List.of("--report", "--model", "--queries", "--gallery", "--sizes",
          "--seed", "--features", "--head", "--head-items", "--head-photos", "--head-epochs", "--head-network", "--head-loss",
          "--head-dir", "--threads"), List.of());
      Path report = Path.of(a.require("--report"));
      if (!report.getFileName().toString().endsWith(".json")) {
        throw new Arguments.UsageException("--report must name a .json file\n" + USAGE);
      }
      Map<String, Path> models = new LinkedHashMap<>();
      models.put(BASELINE, Path.of("models/fashion-mnist-similarity"));
      for (String spec : a.getAll("--model")) {
        String[] parts = nameValue(spec, "--model NAME=DIR");
        models.put(parts[0], Path.of(parts[1]));
      }
      Map<String, String[]> features = new LinkedHashMap<>();
      for (String spec : a.getAll("--features")) {
        String[] parts = nameValue(spec, "--features NAME=MODEL:TENSOR");
        int colon = parts[1].indexOf(':');
        if (colon <= 0 || !models.containsKey(parts[1].substring(0, colon))) {
          throw new Arguments.UsageException("--features " + spec + ": write NAME=MODEL:TENSOR with MODEL one of "
              + models.keySet() + "\n" + USAGE);
        }
        features.put(parts[0], new String[] {parts[1].substring(0, colon), parts[1].substring(colon + 1)});
      }
      Map<String, int[]> sizes = new HashMap<>();
      for (String spec : a.getAll("--sizes")) {
        String[] parts = nameValue(spec, "--sizes NAME=QUERIES/GALLERY");
        String[] qg = parts[1].split("/");
        try {
          sizes.put(parts[0], new int[] {Integer.parseInt(qg[0]), Integer.parseInt(qg[1])});
        } catch (RuntimeException e) {
          throw new Arguments.UsageException("--sizes " + spec + ": write NAME=QUERIES/GALLERY, e.g. x=300/3000\n" + USAGE);
        }
      }
      HeadTrainer.Config defaults = HeadTrainer.Config.defaults();
      HeadTrainer.Config headConfig = new HeadTrainer.Config(
          NetworkSpec.parse(a.get("--head-network", defaults.network().text())),
          a.has("--head-loss") ? HeadTrainer.Config.loss(a.get("--head-loss", "")) : defaults.loss(),
          a.getInt("--head-epochs", defaults.epochs()), defaults.itemsPerBatch(), defaults.learningRate(),
          defaults.seed(), 0);
      Options options = new Options(models, features, a.getInt("--queries", 1000), a.getInt("--gallery", 10_000), sizes,
          Long.parseLong(a.get("--seed", "2026")), a.getAll("--head"), a.getInt("--head-items", 2000),
          a.getInt("--head-photos", 3), headConfig, Path.of(a.get("--head-dir", "work/photo-heads")),
          a.getInt("--threads", Runtime.getRuntime().availableProcessors()));
      for (String head : options.heads()) {
        if (!models.containsKey(head) && !features.containsKey(head)) {
          throw new Arguments.UsageException("--head " + head + " names no model; models: " + models.keySet()
              + ", features: " + features.keySet() + "\n" + USAGE);
        }
      }
      write(report, evaluate(options));
    } catch (Arguments.UsageException e) {
      System.err.println(e.getMessage());
      System.exit(2);
    } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  private static String[] nameValue(String spec, String form) {
    int eq = spec.indexOf('=');
    if (eq <= 0 || eq == spec.length() - 1) {
      throw new Arguments.UsageException("'" + spec + "': write " + form + "\n" + USAGE);
    }
    return new String[] {spec.substring(0, eq), spec.substring(eq + 1)};
  }

  static Map<String, Object> evaluate(Options options) {
    long start = System.nanoTime();
    String loadBefore = Folders.loadAverage();
    FashionMnist test = FashionMnist.load(FashionMnist.Split.TEST);
    ForkJoinPool pool = new ForkJoinPool(Math.max(1, options.threads()));
    List<Map<String, Object>> rows = new ArrayList<>();
    List<Map<String, Object>> missing = new ArrayList<>();
    List<Map<String, Object>> heads = new ArrayList<>();
    Map<String, PhotoSet> photoSets = new HashMap<>();
    Map<String, Object> cropQuality = new LinkedHashMap<>();
    TrainingViews[] trainingViews = new TrainingViews[1];
    try {
      Map<String, Path> models = new LinkedHashMap<>(options.models());
      options.features().keySet().forEach(name -> models.put(name, options.headDir().resolve(name)));
      for (Map.Entry<String, Path> model : models.entrySet()) {
        String name = model.getKey();
        Path dir = model.getValue();
        String[] feature = options.features().get(name);
        String problem = feature == null ? problem(dir) : problem(models.get(feature[0]));
        if (problem == null && feature != null) {
          EmbeddingModelDescriptor d = HeadTrainer.exportFeatures(models.get(feature[0]), feature[1], dir, name);
          log("exported %s: %d-d tensor %s of %s, frozen, to %s", name, d.embeddingDimension(), feature[1],
              feature[0], dir);
        }
        if (problem != null) {
          log("%s: missing (%s)", name, problem);
          missing.add(Map.of("name", name, "model_dir", dir.toString(), "reason", problem));
          continue;
        }
        int[] size = options.sizes().getOrDefault(name, new int[] {options.queries(), options.gallery()});
        PhotoSet photos = photoSets.computeIfAbsent(size[0] + "/" + size[1],
            k -> PhotoSet.render(test, size[0], size[1], options.seed(), pool));
        cropQuality.putIfAbsent(size[0] + "/" + size[1], photos.cropQuality());
        rows.addAll(evaluateModel(name, dir, photos, test, options.threads()));
        if (options.heads().contains(name)) {
          Path headDir = options.headDir().resolve(name + "-head" + options.headConfig().network().embeddingDimension());
          if (trainingViews[0] == null) {
            trainingViews[0] = TrainingViews.render(options, pool);
          }
          Map<String, Object> headRecord = trainHead(name, dir, headDir, options, trainingViews[0]);
          heads.add(headRecord);
          rows.addAll(evaluateModel((String) headRecord.get("name"), headDir, photos, test, options.threads()));
        }
      }
    } finally {
      pool.shutdown();
    }
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("task", "photo-to-catalogue search: each query is a synthetic shopper's photo of one catalogue item; "
        + "the right answer is that item's catalogue image");
    report.put("dataset", "Fashion-MNIST test split: gallery = the first N images, queries = a seeded sample of "
        + "distinct gallery items rendered by PhotoQueries");
    report.put("photos", "224-320 px colour canvas; textured background (value noise, stripes or checks); 1-3 other "
        + "catalogue items as clutter; the item tinted, lit from one side, scaled to 50-75 % of the shorter side, "
        + "rotated up to 12 degrees, shifted up to 12 %; brightness/contrast jitter, noise; JPEG quality 60-90");
    report.put("crop", "ObjectCrop: background-difference localiser (colour distance to the photo's frame, Otsu "
        + "threshold, largest central component, 6 % padding); crop_mode none: the whole photo, box: cropped to the "
        + "product's box, cutout: cropped and the background around the product painted black like the catalogue's");
    report.put("metrics", "exact_item_recall_at_k: share of queries whose own item's catalogue image is in the top k "
        + "of the gallery (exact cosine search); precision_at_10: mean share of the top 10 in the item's category; "
        + "mean_rank: mean 1-based rank of the item's own image");
    report.put("seed", options.seed());
    report.put("queries", options.queries());
    report.put("gallery", options.gallery());
    report.put("models", rows);
    report.put("missing_models", missing);
    report.put("heads", heads);
    report.put("crop_localisation", cropQuality);
    Map<String, Object> best = best(rows);
    report.put("best", best);
    Map<String, Object> baseline = rows.stream()
        .filter(r -> r.get("name").equals(BASELINE) && Boolean.FALSE.equals(r.get("crop"))).findFirst().orElse(null);
    Map<String, Object> bars = new LinkedHashMap<>();
    if (baseline != null && best != null) {
      // The bar: some configuration finds the right item more often than the CNN does on whole photos.
      bars.put("best_beats_fashion_mnist_cnn_on_exact_item_recall_at_10",
          (double) best.get("exact_item_recall_at_10") > (double) baseline.get("exact_item_recall_at_10"));
    }
    report.put("bars", bars);
    report.put("tensorflow_version", TensorFlow.version());
    report.put("java_version", System.getProperty("java.version"));
    report.put("cpu_cores", Runtime.getRuntime().availableProcessors());
    report.put("load_average_before", loadBefore);
    report.put("load_average_after", Folders.loadAverage());
    report.put("wall_seconds", Math.round((System.nanoTime() - start) / 1e9));
    report.put("generated_at", Instant.now().toString());
    return report;
  }

  // Null when the folder holds a readable model, else what is wrong with it.
  private static String problem(Path dir) {
    if (!Files.isDirectory(dir)) {
      return "no folder " + dir;
    }
    if (!Files.isRegularFile(dir.resolve(EmbeddingModelDescriptor.FILE_NAME))) {
      return dir + " has no " + EmbeddingModelDescriptor.FILE_NAME;
    }
    if (!Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      return dir + " has no saved_model.pb";
    }
    return null;
  }

  private static Map<String, Object> best(List<Map<String, Object>> rows) {
    Map<String, Object> best = null;
    for (Map<String, Object> row : rows) {
      if (best == null || (double) row.get("exact_item_recall_at_10") > (double) best.get("exact_item_recall_at_10")
          || (double) row.get("exact_item_recall_at_10") == (double) best.get("exact_item_recall_at_10")
          && (double) row.get("exact_item_recall_at_1") > (double) best.get("exact_item_recall_at_1")) {
        best = row;
      }
    }
    return best == null ? null : Map.of("name", best.get("name"), "crop", best.get("crop"), "crop_mode",
        best.get("crop_mode"),
        "exact_item_recall_at_10", best.get("exact_item_recall_at_10"),
        "exact_item_recall_at_1", best.get("exact_item_recall_at_1"));
  }

  /** The query photos of one (queries, gallery) size: JPEG bytes, cropped PNG bytes, items. */
  record PhotoSet(int queries, int gallery, int[] items, Map<CropMode, List<byte[]>> images,
      double meanCropIou, double uncroppedShare, double renderSeconds) {

    static PhotoSet render(FashionMnist test, int queries, int gallery, long seed, ForkJoinPool pool) {
      long start = System.nanoTime();
      PhotoQueries generator = new PhotoQueries(test, gallery, seed);
      int[] items = generator.queryItems(queries);
      ObjectCrop crop = new ObjectCrop();
      Object[][] out = new Object[queries][];
      pool.submit(() -> IntStream.range(0, queries).parallel().forEach(q -> {
        PhotoQueries.Photo photo = generator.render(q, items[q]);
        BufferedImage image = decode(photo.jpeg());
        PhotoQueries.Box box = crop.locate(image);
        out[q] = new Object[] {photo.jpeg(), png(crop.crop(image)), png(crop.cutout(image)),
            box.iou(photo.productBox()), box.width() == photo.width() && box.height() == photo.height()};
      })).join();
      Map<CropMode, List<byte[]>> images = new java.util.EnumMap<>(CropMode.class);
      for (CropMode mode : CropMode.values()) {
        images.put(mode, new ArrayList<>());
      }
      double iou = 0;
      int whole = 0;
      for (Object[] o : out) {
        for (CropMode mode : CropMode.values()) {
          images.get(mode).add((byte[]) o[mode.ordinal()]);
        }
        iou += (double) o[3];
        whole += (boolean) o[4] ? 1 : 0;
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      log("rendered %d query photos of a %d-image gallery and cropped them in %.1f s (crop IoU with the product "
          + "%.3f, %d left whole)", queries, gallery, seconds, iou / queries, whole);
      return new PhotoSet(queries, gallery, items, images, iou / queries, (double) whole / queries, seconds);
    }

    Map<String, Object> cropQuality() {
      return Map.of("mean_iou_with_product_box", round(meanCropIou), "share_left_uncropped", round(uncroppedShare),
          "render_and_crop_seconds", round1(renderSeconds));
    }
  }

  private static List<Map<String, Object>> evaluateModel(String name, Path dir, PhotoSet photos, FashionMnist test,
      int threads) {
    List<Map<String, Object>> rows = new ArrayList<>();
    try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(dir).build())) {
      long start = System.nanoTime();
      List<byte[]> galleryImages = new ArrayList<>();
      int[] labels = new int[photos.gallery()];
      for (int i = 0; i < photos.gallery(); i++) {
        galleryImages.add(test.png(i));
        labels[i] = test.label(i);
      }
      float[][] gallery = embed(embedder, galleryImages, name + " gallery");
      double gallerySeconds = (System.nanoTime() - start) / 1e9;
      for (CropMode crop : CropMode.values()) {
        long queryStart = System.nanoTime();
        float[][] queries = embed(embedder, photos.images().get(crop), name + " queries");
        double querySeconds = (System.nanoTime() - queryStart) / 1e9;
        PhotoSearchMetrics m = PhotoSearchMetrics.compute(queries, photos.items(), gallery, labels, threads);
        log("%-28s crop %-6s recall@1 %.4f  recall@10 %.4f  precision@10 %.4f  mean rank %.0f  (%.0f queries/s)",
            name, crop, m.exactItemRecallAt1(), m.exactItemRecallAt10(), m.precisionAt10(), m.meanRank(),
            photos.queries() / querySeconds);
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("name", name);
        row.put("dimension", embedder.dimension());
        row.put("crop", crop != CropMode.NONE);
        row.put("crop_mode", crop.text());
        row.put("exact_item_recall_at_1", round(m.exactItemRecallAt1()));
        row.put("exact_item_recall_at_10", round(m.exactItemRecallAt10()));
        row.put("precision_at_10", round(m.precisionAt10()));
        row.put("mean_rank", round1(m.meanRank()));
        row.put("queries", photos.queries());
        row.put("gallery", photos.gallery());
        row.put("model_id", embedder.modelId());
        row.put("model_dir", dir.toString());
        row.put("gallery_embed_seconds", round1(gallerySeconds));
        row.put("query_photos_per_s", round1(photos.queries() / querySeconds));
        rows.add(row);
      }
    }
    return rows;
  }

  /** The head's training views, rendered once for every head: images and the item each shows. */
  record TrainingViews(List<byte[]> images, int[] items, int itemCount, double renderSeconds) {

    static TrainingViews render(Options options, ForkJoinPool pool) {
      long start = System.nanoTime();
      FashionMnist train = FashionMnist.load(FashionMnist.Split.TRAIN);
      // Another seed than the queries', and training-split items only: no test item is seen.
      PhotoQueries generator = new PhotoQueries(train, train.size(), options.seed() ^ 0x7EA1L);
      int[] items = generator.queryItems(options.headItems());
      int views = 1 + options.headPhotos();
      byte[][] images = new byte[items.length * views][];
      int[] labels = new int[images.length];
      ObjectCrop crop = new ObjectCrop();
      pool.submit(() -> IntStream.range(0, items.length).parallel().forEach(i -> {
        images[i * views] = train.png(items[i]);
        for (int p = 0; p < options.headPhotos(); p++) {
          PhotoQueries.Photo photo = generator.render(p, items[i]);
          images[i * views + 1 + p] = switch (CropMode.values()[p % 3]) {
            case NONE -> photo.jpeg();
            case BOX -> png(crop.crop(decode(photo.jpeg())));
            case CUTOUT -> png(crop.cutout(decode(photo.jpeg())));
          };
        }
      })).join();
      for (int i = 0; i < labels.length; i++) {
        labels[i] = items[i / views];
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      log("rendered %d training views of %d training-split items for the heads in %.1f s", images.length,
          items.length, seconds);
      return new TrainingViews(java.util.Arrays.asList(images), labels, items.length, seconds);
    }
  }

  /**
   * Trains a head on {@code name}'s frozen features of training-split items (each: its catalogue
   * image and {@code headPhotos} photos: whole, box-cropped and cut out in turn), exports backbone + head.
   */
  private static Map<String, Object> trainHead(String name, Path backboneDir, Path headDir, Options options,
      TrainingViews views) {
    long start = System.nanoTime();
    List<byte[]> images = views.images();
    int[] labels = views.items();
    float[][] features;
    try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(backboneDir).build())) {
      features = embed(embedder, images, name + " head training views");
    }
    double featureSeconds = (System.nanoTime() - start) / 1e9;
    long trainStart = System.nanoTime();
    HeadTrainer.Head head = new HeadTrainer(options.headConfig(), line -> log("%s", line)).train(features, labels);
    double trainSeconds = (System.nanoTime() - trainStart) / 1e9;
    String headName = name + "+head" + head.dimension();
    EmbeddingModelDescriptor descriptor = HeadTrainer.exportWithBackbone(head, backboneDir, headDir,
        name + "-photo-head" + head.dimension());
    log("exported %s (%s) to %s", headName, descriptor.qualifiedId(), headDir);
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("name", headName);
    record.put("backbone", name);
    record.put("model_dir", headDir.toString());
    record.put("network", options.headConfig().network().text());
    record.put("loss", options.headConfig().loss().toString());
    record.put("epochs", options.headConfig().epochs());
    record.put("training_items", views.itemCount());
    record.put("views_per_item", "catalogue image + " + options.headPhotos() + " photos (whole, box crop, cutout, "
        + "in turn)");
    record.put("training_data", "Fashion-MNIST training split, photos from PhotoQueries with another seed");
    record.put("loss_by_epoch", head.lossByEpoch().stream().map(v -> round(v)).toList());
    record.put("render_seconds", round1(views.renderSeconds()));
    record.put("feature_seconds", round1(featureSeconds));
    record.put("train_seconds", round1(trainSeconds));
    return record;
  }

  private static float[][] embed(ImageEmbedder embedder, List<byte[]> images, String what) {
    float[][] out = new float[images.size()][];
    for (int from = 0; from < images.size(); from += 64) {
      List<EmbeddingResult> results = embedder.embedBatch(images.subList(from, Math.min(images.size(), from + 64)));
      for (int i = 0; i < results.size(); i++) {
        EmbeddingResult r = results.get(i);
        if (!r.isSuccess()) {
          throw new IllegalStateException(what + ": image " + (from + i) + " did not decode: " + r.error().getMessage());
        }
        out[from + i] = r.vector();
      }
    }
    return out;
  }

  static BufferedImage decode(byte[] bytes) {
    try {
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
      if (image == null) {
        throw new IllegalStateException("a generated photo did not decode");
      }
      return image;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] png(BufferedImage image) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
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
      Files.writeString(report, new com.fasterxml.jackson.databind.ObjectMapper()
          .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(result) + "\n");
      String name = report.getFileName().toString();
      Path markdown = report.resolveSibling(name.substring(0, name.length() - ".json".length()) + ".md");
      Files.writeString(markdown, PhotoSearchMarkdown.render(result));
      log("wrote %s and %s", report, markdown);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report " + report, e);
    }
  }
}
