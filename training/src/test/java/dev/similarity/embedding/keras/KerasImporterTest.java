package dev.similarity.embedding.keras;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.embedding.EmbeddingModelDescriptor.Normalisation;
import dev.similarity.embedding.Resampling;
import dev.similarity.embedding.ResizePolicy;
import dev.similarity.embedding.internal.DirectSessionModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.ConfigProto;

/** The TF.js layers-format reader and the converter on small hand-made models. */
class KerasImporterTest {

  @TempDir
  Path dir;

  private static final String INPUT = """
      {"name": "input_1", "class_name": "InputLayer", "config": {"batch_input_shape": [null, 3, 3, 1],
       "dtype": "float32", "name": "input_1"}, "inbound_nodes": []}""";

  private void writeModel(String layers, String weights, String output, byte[] data) throws Exception {
    Files.writeString(dir.resolve("model.json"), """
        {"modelTopology": {"keras_version": "2.2.4", "model_config": {"class_name": "Model", "config": {
          "name": "m", "layers": [%s], "input_layers": [["input_1", 0, 0]], "output_layers": [["%s", 0, 0]]}}},
         "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": [%s]}]}
        """.formatted(layers, output, weights));
    Files.write(dir.resolve("group1-shard1of1.bin"), data);
  }

  @Test
  void refusesAnUnsupportedLayerNamingItsClassAndName() throws Exception {
    writeModel(INPUT + """
        , {"name": "sep_1", "class_name": "SeparableConv2D", "config": {"name": "sep_1"},
           "inbound_nodes": [[["input_1", 0, 0, {}]]]}""", "", "sep_1", new byte[0]);
    TfjsLayersModel model = TfjsLayersModel.read(dir);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new KerasGraphBuilder(model, "sep_1"));
    assertTrue(e.getMessage().contains("unsupported layer class SeparableConv2D (layer 'sep_1')"), e.getMessage());
  }

  @Test
  void refusesALeakyReluRatherThanBuildingAPlainOne() throws Exception {
    writeModel(INPUT + """
        , {"name": "leaky", "class_name": "ReLU", "config": {"name": "leaky", "max_value": null,
           "negative_slope": 0.1, "threshold": 0}, "inbound_nodes": [[["input_1", 0, 0, {}]]]}""", "", "leaky",
        new byte[0]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new KerasGraphBuilder(TfjsLayersModel.read(dir), "leaky"));
    assertTrue(e.getMessage().contains("ReLU layer 'leaky' has negative_slope 0.1"), e.getMessage());
  }

  @Test
  void refusesToReplaceAFolderThatIsNotAModel() throws Exception {
    writeModel(INPUT, "", "input_1", new byte[0]);
    Path out = dir.resolve("not-a-model");
    Files.createDirectories(out);
    Files.writeString(out.resolve("notes.txt"), "keep me");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KerasImporter.convert(
        new KerasImporter.Request(dir, "input_1", out, "m", "1", "RGB", Normalisation.none(1), ResizePolicy.STRETCH,
            Resampling.AREA, 0)));
    assertTrue(e.getMessage().contains("holds files but no model"), e.getMessage());
    assertTrue(Files.exists(out.resolve("notes.txt")));
  }

  @Test
  void dequantisesUint8AsMinPlusScaleTimesValue() throws Exception {
    writeModel(INPUT, """
        {"name": "w/kernel", "shape": [3], "dtype": "float32",
         "quantization": {"dtype": "uint8", "min": -1.0, "scale": 0.5}}""", "input_1", new byte[] {0, 1, (byte) 200});
    TfjsLayersModel model = TfjsLayersModel.read(dir);
    assertArrayEquals(new float[] {-1f, -0.5f, 99f}, model.weights().get("w/kernel").values(), 0f);
  }

  @Test
  void shardsShorterThanTheManifestAreRefused() throws Exception {
    writeModel(INPUT, """
        {"name": "w/kernel", "shape": [4], "dtype": "float32"}""", "input_1", new byte[8]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TfjsLayersModel.read(dir));
    assertTrue(e.getMessage().contains("end inside weight 'w/kernel'"), e.getMessage());
  }

  @Test
  void convertsConvolutionBatchNormReluAndPoolingExactly() throws Exception {
    // 3x3x1 input -> Conv2D 2 filters 2x2 valid, no bias -> BatchNormalization (no scale)
    // -> ReLU capped at 6 -> GlobalAveragePooling2D -> 2-d embedding.
    float[] kernel = {1f, -1f, 0.5f, 2f, -0.25f, 0f, 1f, 1f}; // HWIO [2, 2, 1, 2]
    float[] beta = {0.5f, -1f};
    float[] mean = {1f, 0f};
    float[] variance = {4f, 0.25f};
    ByteBuffer data = ByteBuffer.allocate(4 * (8 + 6)).order(ByteOrder.LITTLE_ENDIAN);
    for (float[] w : new float[][] {kernel, beta, mean, variance}) {
      for (float v : w) {
        data.putFloat(v);
      }
    }
    writeModel(INPUT + """
        , {"name": "conv", "class_name": "Conv2D", "config": {"name": "conv", "filters": 2, "kernel_size": [2, 2],
           "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1],
           "activation": "linear", "use_bias": false}, "inbound_nodes": [[["input_1", 0, 0, {}]]]},
          {"name": "bn", "class_name": "BatchNormalization", "config": {"name": "bn", "axis": 3, "epsilon": 0.001,
           "center": true, "scale": false}, "inbound_nodes": [[["conv", 0, 0, {}]]]},
          {"name": "relu", "class_name": "ReLU", "config": {"name": "relu", "max_value": 6, "negative_slope": 0,
           "threshold": 0}, "inbound_nodes": [[["bn", 0, 0, {}]]]},
          {"name": "gap", "class_name": "GlobalAveragePooling2D", "config": {"name": "gap",
           "data_format": "channels_last"}, "inbound_nodes": [[["relu", 0, 0, {}]]]}""", """
        {"name": "conv/kernel", "shape": [2, 2, 1, 2], "dtype": "float32"},
        {"name": "bn/beta", "shape": [2], "dtype": "float32"},
        {"name": "bn/moving_mean", "shape": [2], "dtype": "float32"},
        {"name": "bn/moving_variance", "shape": [2], "dtype": "float32"}""", "gap", data.array());
    Path out = dir.resolve("converted");
    KerasImporter.Result result = KerasImporter.convert(new KerasImporter.Request(dir, "gap", out, "tiny", "1", "RGB",
        Normalisation.none(1), ResizePolicy.STRETCH, Resampling.AREA, 0));
    assertEquals(2, result.descriptor().embeddingDimension());

    float[] image = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    float[] expected = new float[2];
    for (int f = 0; f < 2; f++) {
      double sum = 0;
      for (int y = 0; y < 2; y++) {
        for (int x = 0; x < 2; x++) {
          double conv = 0;
          for (int ky = 0; ky < 2; ky++) {
            for (int kx = 0; kx < 2; kx++) {
              conv += image[(y + ky) * 3 + x + kx] * kernel[(ky * 2 + kx) * 2 + f];
            }
          }
          double bn = (conv - mean[f]) / Math.sqrt(variance[f] + 0.001) + beta[f];
          sum += Math.min(6, Math.max(0, bn));
        }
      }
      expected[f] = (float) (sum / 4);
    }
    double norm = Math.hypot(expected[0], expected[1]);
    try (DirectSessionModel model = DirectSessionModel.load(out, ConfigProto.getDefaultInstance())) {
      float[] got = model.run(image, 1)[0];
      assertArrayEquals(new float[] {(float) (expected[0] / norm), (float) (expected[1] / norm)}, got, 1e-6f);
    }
  }
}
