package dev.similarity.embedding.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.similarity.embedding.CommittedModel;
import dev.similarity.embedding.training.HeadTrainer;
import dev.similarity.embedding.training.NetworkSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** scripts/eval-photo-search on a small run: the CNN, a missing backbone, a head on the CNN. */
class PhotoSearchToolIT {

  @TempDir
  Path work;

  @Test
  void reportsEveryModelWithCropOffAndOnAndNamesTheMissingOnes() throws Exception {
    Map<String, Path> models = new LinkedHashMap<>();
    models.put(EvaluatePhotoSearch.BASELINE, CommittedModel.dir());
    models.put("inception-v3", work.resolve("no-such-model"));
    HeadTrainer.Config head = new HeadTrainer.Config(NetworkSpec.parse("dense64-embed128"),
        HeadTrainer.Config.loss("multi-similarity"), 2, 8, 1e-3f, 1L, 1);
    EvaluatePhotoSearch.Options options = new EvaluatePhotoSearch.Options(models,
        Map.of("cnn-conv", new String[] {EvaluatePhotoSearch.BASELINE, "layer6_2/Reshape"}), 24, 300, Map.of(), 5L,
        List.of(EvaluatePhotoSearch.BASELINE, "cnn-conv"), 16, 3, head, work.resolve("heads"), 2);
    Path report = work.resolve("photo.json");
    EvaluatePhotoSearch.write(report, EvaluatePhotoSearch.evaluate(options));

    JsonNode json = new ObjectMapper().readTree(report.toFile());
    JsonNode rows = json.get("models");
    // (CNN, CNN+head, its conv features, conv features+head) x (none, box, cutout)
    assertEquals(12, rows.size(), rows.toString());
    for (JsonNode row : rows) {
      for (String key : List.of("name", "dimension", "crop", "exact_item_recall_at_1", "exact_item_recall_at_10",
          "precision_at_10", "queries", "gallery")) {
        assertTrue(row.has(key), key + " in " + row);
      }
      assertEquals(24, row.get("queries").asInt());
      assertEquals(row.get("name").asText().equals("cnn-conv") ? 3136 : 128, row.get("dimension").asInt());
      double r10 = row.get("exact_item_recall_at_10").asDouble();
      assertTrue(r10 >= row.get("exact_item_recall_at_1").asDouble() && r10 <= 1.0, row.toString());
    }
    assertEquals(List.of("none", "box", "cutout"), List.of(rows.get(0).get("crop_mode").asText(),
        rows.get(1).get("crop_mode").asText(), rows.get(2).get("crop_mode").asText()));
    assertEquals(false, rows.get(0).get("crop").asBoolean());
    assertEquals(true, rows.get(2).get("crop").asBoolean());
    assertEquals("fashion-mnist-cnn+head128", rows.get(3).get("name").asText());
    assertEquals("cnn-conv+head128", rows.get(9).get("name").asText());
    assertEquals(2, json.get("heads").size());
    assertEquals("inception-v3", json.get("missing_models").get(0).get("name").asText());
    assertTrue(Files.isRegularFile(work.resolve("heads/fashion-mnist-cnn-head128/saved_model.pb")));
    String markdown = Files.readString(work.resolve("photo.md"));
    assertTrue(markdown.contains("| fashion-mnist-cnn | 128 | off | 24 / 300 |"), markdown);
    assertTrue(markdown.contains("inception-v3: no folder"), markdown);
  }
}
