package dev.similarity.embedding.keras;

import dev.similarity.embedding.testing.ChildCommands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.similarity.embedding.EmbeddingModelDescriptor.Normalisation;
import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.Resampling;
import dev.similarity.embedding.ResizePolicy;
import dev.similarity.embedding.internal.Folders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The conversion is exact: nsfwjs' Inception-V3 and MobileNet-V2, converted from the npm package
 * by {@link KerasImporter} and served through DJL ({@link ImageEmbedder}), give the same
 * L2-normalised features as TensorFlow.js running the original nsfwjs files with nsfwjs' own
 * preprocessing, on 24 varied images (colour, grey, palette, alpha; 1x1 to 800 px), within 1e-3
 * max absolute difference, with identical top-10 neighbour lists over the set.
 *
 * <p>The TF.js features are computed by {@code scripts/keras/tfjs-reference.cjs} and kept in
 * {@code scripts/keras/reference/<model>.json}, keyed by the SHA-256 of everything they depend on
 * (the images, the npm lock file, the reference script, model, layer, pad value); when the key
 * differs, this test runs Node to recompute them (minutes) and rewrites the file. Needs Node.js
 * and npm (the npm registry on a cold cache): their absence fails with a message.
 */
class KerasImportIT {

  private static final double MAX_DIFFERENCE = 1e-3;
  private static final int K = 10;
  private static final int PAD = 255;
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private static Path root;
  private static Path cache;
  private static Map<String, byte[]> images;

  @BeforeAll
  static void fetchPackage() throws Exception {
    root = ChildCommands.projectRoot();
    cache = Path.of(System.getenv().getOrDefault("VSI_HOME", root.resolve("work").toString())).resolve("keras-import");
    run(List.of("bash", root.resolve("scripts/keras/fetch-nsfwjs").toString(), cache.toString()), 600);
    images = VariedImages.pngs();
  }

  @Test
  void inceptionV3MatchesTfjsOnTheOriginalFiles() throws Exception {
    check("inception-v3-nsfwjs", "inception_v3", "InceptionV3", 2048);
  }

  @Test
  void mobileNetV2MatchesTfjsOnTheOriginalFiles() throws Exception {
    check("mobilenet-v2-nsfwjs", "mobilenet_v2", "MobileNetV2", 1280);
  }

  private void check(String name, String sourceModel, String nsfwjsName, int dimension) throws Exception {
    Path modelDir = root.resolve("training/target/keras-import").resolve(name);
    KerasImporter.Result converted = KerasImporter.convert(new KerasImporter.Request(
        cache.resolve("tfjs").resolve(sourceModel), "flatten_1", modelDir, name, "4.4.0", "RGB",
        new Normalisation(1f / 255f, new float[3], new float[] {1f, 1f, 1f}), ResizePolicy.STRETCH,
        Resampling.BILINEAR_ALIGN_CORNERS, PAD));
    assertEquals(dimension, converted.descriptor().embeddingDimension());
    checkManifest(name, sourceModel, converted);

    Map<String, float[]> reference = reference(sourceModel, nsfwjsName);
    Map<String, float[]> ours = new LinkedHashMap<>();
    try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(modelDir)
        .maxBatchSize(8).build())) {
      List<String> names = new ArrayList<>(images.keySet());
      List<EmbeddingResult> results = embedder.embedBatch(names.stream().map(images::get).toList());
      for (int i = 0; i < names.size(); i++) {
        EmbeddingResult r = results.get(i);
        if (!r.isSuccess()) {
          fail(names.get(i) + " did not embed: " + r.error().getMessage());
        }
        ours.put(names.get(i), r.vector());
      }
    }

    double worst = 0;
    String worstImage = null;
    Map<String, Double> perImage = new LinkedHashMap<>();
    for (String image : images.keySet()) {
      float[] want = l2(reference.get(image));
      float[] got = ours.get(image);
      assertEquals(want.length, got.length, image);
      double max = 0;
      for (int i = 0; i < want.length; i++) {
        max = Math.max(max, Math.abs(want[i] - got[i]));
      }
      perImage.put(image, max);
      if (max > worst) {
        worst = max;
        worstImage = image;
      }
    }
    Map<String, List<String>> referenceLists = topK(reference);
    Map<String, List<String>> ourLists = topK(ours);
    int agreeing = 0;
    for (String image : images.keySet()) {
      if (referenceLists.get(image).equals(ourLists.get(image))) {
        agreeing++;
      }
    }
    writeReport(name, worst, worstImage, perImage, agreeing);
    System.out.printf(Locale.ROOT, "%s: max |difference| %.3g (%s) over %d images, top-%d lists identical for %d of %d%n",
        name, worst, worstImage, images.size(), K, agreeing, images.size());
    assertTrue(worst <= MAX_DIFFERENCE, name + ": max |difference| " + worst + " on " + worstImage + " > " + MAX_DIFFERENCE);
    for (String image : images.keySet()) {
      assertEquals(referenceLists.get(image), ourLists.get(image), name + ": top-" + K + " of " + image);
    }
  }

  // The converted files carry the SHA-256 recorded by scripts/import-keras-model.
  private static void checkManifest(String name, String sourceModel, KerasImporter.Result converted) throws IOException {
    JsonNode expected = JSON.readTree(root.resolve("scripts/keras/expected-models.json").toFile()).path("models").path(name);
    assertTrue(expected.isObject(), "scripts/keras/expected-models.json records no " + name);
    Map<String, String> savedModel = new LinkedHashMap<>();
    converted.files().forEach((file, sum) -> {
      if (file.equals("saved_model.pb") || file.startsWith("variables/")) {
        savedModel.put(file, sum);
      }
    });
    assertEquals(JSON.convertValue(expected.path("files"), Map.class), savedModel,
        name + ": SavedModel SHA-256 differs from scripts/keras/expected-models.json");
    assertEquals(JSON.convertValue(expected.path("source_files"), Map.class),
        KerasImporter.checksums(cache.resolve("tfjs").resolve(sourceModel)), name + ": source files differ");
  }

  // Each image as a query over all the others: the ids of its K nearest by cosine, nearest first.
  private static Map<String, List<String>> topK(Map<String, float[]> vectors) {
    Map<String, float[]> unit = new LinkedHashMap<>();
    vectors.forEach((k, v) -> unit.put(k, l2(v)));
    Map<String, List<String>> lists = new LinkedHashMap<>();
    for (String query : unit.keySet()) {
      List<String> others = new ArrayList<>(unit.keySet());
      others.remove(query);
      others.sort((a, b) -> Double.compare(dot(unit.get(query), unit.get(b)), dot(unit.get(query), unit.get(a))));
      lists.put(query, List.copyOf(others.subList(0, Math.min(K, others.size()))));
    }
    return lists;
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }

  private static float[] l2(float[] v) {
    double s = 0;
    for (float x : v) {
      s += (double) x * x;
    }
    float inv = (float) (1 / Math.sqrt(Math.max(s, 1e-24)));
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i] * inv;
    }
    return out;
  }

  /** TF.js features of every image, from the keyed file or, when its key differs, from Node. */
  private static Map<String, float[]> reference(String sourceModel, String nsfwjsName) throws Exception {
    Path script = root.resolve("scripts/keras/tfjs-reference.cjs");
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    digest.update(Files.readAllBytes(root.resolve("scripts/keras/package-lock.json")));
    digest.update(Files.readAllBytes(script));
    digest.update((nsfwjsName + "\0flatten_1\0" + PAD + "\0").getBytes(StandardCharsets.UTF_8));
    images.forEach((n, bytes) -> {
      digest.update(n.getBytes(StandardCharsets.UTF_8));
      digest.update(bytes);
    });
    String key = HexFormat.of().formatHex(digest.digest());
    Path file = root.resolve("scripts/keras/reference").resolve(sourceModel + ".json");
    if (!Files.exists(file) || !JSON.readTree(file.toFile()).path("key").asText().equals(key)) {
      System.out.println("TF.js reference for " + nsfwjsName + " is missing or stale (key " + key.substring(0, 12)
          + "); computing it with Node (minutes)");
      Path dir = Files.createTempDirectory("keras-reference");
      for (Map.Entry<String, byte[]> e : images.entrySet()) {
        Files.write(dir.resolve(e.getKey()), e.getValue());
      }
      Path raw = dir.resolve("features.json");
      run(List.of("node", script.toString(), cache.resolve("npm/node_modules").toString(), nsfwjsName, "flatten_1",
          dir.toString(), raw.toString(), "--backend", "wasm", "--pad", Integer.toString(PAD)), 1800);
      ObjectNode computed = (ObjectNode) JSON.readTree(raw.toFile());
      computed.put("key", key);
      computed.put("key_note", "SHA-256 of package-lock.json, tfjs-reference.cjs, model, layer, pad and every image "
          + "(name + PNG bytes) of KerasImportIT's VariedImages; the test recomputes this file when it differs");
      Files.createDirectories(file.getParent());
      Files.writeString(file, new ObjectMapper().writeValueAsString(computed) + "\n");
      Folders.deleteRecursively(dir);
      System.out.println("wrote " + file + ": commit it so that later runs skip Node");
    }
    JsonNode json = JSON.readTree(file.toFile());
    Map<String, float[]> out = new LinkedHashMap<>();
    for (String image : images.keySet()) {
      JsonNode values = json.path("images").path(image);
      if (!values.isArray()) {
        fail(file + " has no features for " + image);
      }
      float[] v = new float[values.size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) values.get(i).asDouble();
      }
      out.put(image, v);
    }
    return out;
  }

  private static void writeReport(String name, double worst, String worstImage, Map<String, Double> perImage,
      int agreeing) throws IOException {
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("model", name);
    report.put("images", images.size());
    report.put("max_abs_difference", worst);
    report.put("worst_image", worstImage);
    report.put("top_k", K);
    report.put("identical_top_k_lists", agreeing);
    report.put("max_abs_difference_per_image", perImage);
    Path out = root.resolve("training/target/keras-import").resolve(name + "-vs-tfjs.json");
    Files.createDirectories(out.getParent());
    JSON.writeValue(out.toFile(), report);
  }

  private static void run(List<String> command, long timeoutSeconds) throws Exception {
    ChildCommands.run(command, timeoutSeconds, "the Keras import test needs Node.js 20+ and npm (Debian: apt-get install nodejs npm)");
  }
}
