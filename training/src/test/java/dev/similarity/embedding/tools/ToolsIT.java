package dev.similarity.embedding.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.similarity.embedding.CommittedModel;
import dev.similarity.embedding.data.FashionMnist;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embed and eval CLIs against the committed model. */
class ToolsIT {

  @TempDir
  Path work;

  @Test
  void embedWritesOneRowPerDecodableImageWithFolderLabels() throws Exception {
    FashionMnist test = FashionMnist.load(FashionMnist.Split.TEST);
    Path images = work.resolve("images");
    Files.createDirectories(images.resolve("sneakers"));
    Files.write(images.resolve("sneakers/a.png"), test.png(0));
    Files.write(images.resolve("sneakers/broken.png"), new byte[] {1, 2, 3});
    Files.write(images.resolve("loose.png"), test.png(1));
    Path prefix = work.resolve("out/vectors");

    EmbedImages.main(new String[] {"--images", images.toString(), "--out", prefix.toString(),
        "--model", CommittedModel.dir().toString()});

    assertEquals(List.of("loose.png", "sneakers/a.png\tsneakers"), Files.readAllLines(Path.of(prefix + ".ids")));
    ByteBuffer npy = ByteBuffer.wrap(Files.readAllBytes(Path.of(prefix + ".npy"))).order(ByteOrder.LITTLE_ENDIAN);
    String header = new String(npy.array(), 10, NpyWriter.HEADER_BYTES - 10, java.nio.charset.StandardCharsets.US_ASCII);
    assertTrue(header.contains("'shape': (2, 128)"), header);
    assertEquals(NpyWriter.HEADER_BYTES + 2 * 128 * 4, npy.capacity());
    double norm = 0;
    npy.position(NpyWriter.HEADER_BYTES);
    for (int i = 0; i < 128; i++) {
      float v = npy.getFloat();
      norm += v * v;
    }
    assertEquals(1.0, norm, 1e-4);
  }

  @Test
  void evalReportHasEveryRequiredKeyAndAMarkdownTwin() throws Exception {
    Map<String, Object> result = EvaluateModel.evaluate(CommittedModel.dir(), 300, 0.05f, 2, true);
    Path report = work.resolve("eval.json");
    EvaluateModel.write(report, result);

    JsonNode json = new ObjectMapper().readTree(report.toFile());
    for (String key : List.of("precision_at_1", "precision_at_5", "precision_at_10", "recall_at_10", "map_at_r",
        "knn_accuracy", "confusion_matrix", "throughput_images_per_s", "tf_session_throughput_images_per_s",
        "model_load_ms", "model_id")) {
      assertTrue(json.has(key), "missing " + key);
    }
    assertEquals("fashion-mnist-similarity@1", json.get("model_id").asText());
    assertEquals(10, json.get("confusion_matrix").size());
    long total = 0;
    for (JsonNode row : json.get("confusion_matrix")) {
      for (JsonNode count : row) {
        total += count.asLong();
      }
    }
    assertEquals(300, total);
    for (String batch : List.of("1", "16", "64", "256")) {
      assertTrue(json.get("throughput_images_per_s").get(batch).asDouble() > 0, batch);
      assertTrue(json.get("tf_session_throughput_images_per_s").get(batch).asDouble() > 0, batch);
    }
    String markdown = Files.readString(work.resolve("eval.md"));
    assertTrue(markdown.contains("| precision_at_10 |"), markdown);
    assertTrue(markdown.contains("9 Ankle boot"), markdown);
  }
}
