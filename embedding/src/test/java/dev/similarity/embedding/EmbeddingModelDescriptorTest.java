package dev.similarity.embedding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.embedding.EmbeddingModelDescriptor.Normalisation;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddingModelDescriptorTest {

  @TempDir
  Path dir;

  @Test
  void roundTripsThroughModelJson() {
    EmbeddingModelDescriptor written = new EmbeddingModelDescriptor("resnet50-imagenet", "2024-01", 224, 224, 3,
        "BGR", new Normalisation(1f, new float[] {103.939f, 116.779f, 123.68f}, new float[] {1f, 1f, 1f}),
        ResizePolicy.CENTER_CROP, 255, "serving_default", "input_1", "avg_pool", 2048);
    written.write(dir);
    EmbeddingModelDescriptor read = EmbeddingModelDescriptor.read(dir);
    assertEquals(written, read);
    assertEquals("resnet50-imagenet@2024-01", read.qualifiedId());
  }

  @Test
  void fillsDefaultsForOptionalFields() throws Exception {
    Files.writeString(dir.resolve("model.json"), """
        {"modelId": "m", "version": "1", "inputHeight": 28, "inputWidth": 28, "inputChannels": 1,
         "normalisation": {"scale": 0.00392157, "mean": [0], "std": [1]},
         "resizePolicy": "LETTERBOX", "inputTensor": "image", "outputTensor": "embedding",
         "embeddingDimension": 128}
        """);
    EmbeddingModelDescriptor d = EmbeddingModelDescriptor.read(dir);
    assertEquals("serving_default", d.signature());
    assertEquals("RGB", d.channelOrder());
    assertEquals(0, d.padValue());
    // Descriptors written before resampling was a field keep the resampling they were served with.
    assertEquals(Resampling.AREA, d.resampling());
  }

  @Test
  void resamplingAndStretchRoundTrip() {
    EmbeddingModelDescriptor written = new EmbeddingModelDescriptor("inception-v3-nsfwjs", "4.4.0", 299, 299, 3,
        "RGB", new Normalisation(1f / 255f, new float[] {0f, 0f, 0f}, new float[] {1f, 1f, 1f}),
        ResizePolicy.STRETCH, 255, null, "image", "embedding", 2048, Resampling.BILINEAR_ALIGN_CORNERS);
    written.write(dir);
    EmbeddingModelDescriptor read = EmbeddingModelDescriptor.read(dir);
    assertEquals(written, read);
    assertEquals(Resampling.BILINEAR_ALIGN_CORNERS, read.resampling());
    assertEquals(ResizePolicy.STRETCH, read.resizePolicy());
  }

  @Test
  void invalidFieldIsNamedInTheError() throws Exception {
    Files.writeString(dir.resolve("model.json"), """
        {"modelId": "m", "version": "1", "inputHeight": 28, "inputWidth": 28, "inputChannels": 2,
         "normalisation": {"scale": 1, "mean": [0, 0], "std": [1, 1]},
         "resizePolicy": "LETTERBOX", "inputTensor": "image", "outputTensor": "embedding",
         "embeddingDimension": 128}
        """);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EmbeddingModelDescriptor.read(dir));
    assertTrue(e.getMessage().contains("inputChannels must be 1 or 3, was 2"), e.getMessage());
  }

  @Test
  void normalisationNeedsOneMeanPerChannel() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EmbeddingModelDescriptor(
        "m", "1", 8, 8, 3, "RGB", Normalisation.none(1), ResizePolicy.LETTERBOX, 0, null, "in", "out", 4));
    assertTrue(e.getMessage().contains("normalisation needs one mean and one std per input channel (3)"),
        e.getMessage());
  }

  @Test
  void missingDescriptorSaysWhatToWrite() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EmbeddingModelDescriptor.read(dir));
    assertTrue(e.getMessage().contains("has no model.json"), e.getMessage());
  }
}
