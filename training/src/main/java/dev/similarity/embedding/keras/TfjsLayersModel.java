package dev.similarity.embedding.keras;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Keras model in the TensorFlow.js layers format, read from a folder: {@code model.json}
 * ({@code modelTopology} with a functional {@code Model} config, and {@code weightsManifest}) and
 * the binary weight shards it names, concatenated in manifest order.
 *
 * <p>Quantised weights are dequantised as TF.js does ({@code io.decodeWeights}): each stored
 * {@code uint8}/{@code uint16} value {@code q} becomes {@code min + scale * q}, computed in double
 * precision and rounded once to float32, so the converted weights are bit-for-bit the ones TF.js
 * runs.
 *
 * @param layers the layers in topology order
 * @param weights every weight by its manifest name ({@code conv2d_1/kernel}), in manifest order
 * @param inputLayers names of the model's input layers
 * @param outputLayers names of the model's output layers
 */
public record TfjsLayersModel(List<Layer> layers, Map<String, Weight> weights, List<String> inputLayers,
    List<String> outputLayers) {

  /** File name of the topology and manifest inside a layers-format folder. */
  public static final String MODEL_FILE = "model.json";

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One layer of the functional model.
   *
   * @param name unique layer name, e.g. {@code conv2d_1}
   * @param className Keras class, e.g. {@code Conv2D}
   * @param config the layer's Keras config object
   * @param inbound names of the layers whose outputs feed this one (empty for an input layer)
   */
  public record Layer(String name, String className, JsonNode config, List<String> inbound) {}

  /**
   * One weight tensor, dequantised.
   *
   * @param name manifest name, {@code <layer>/<parameter>}
   * @param shape dimensions, e.g. {@code [3, 3, 32, 64]} for a Conv2D kernel (HWIO)
   * @param values row-major float32 values
   */
  public record Weight(String name, long[] shape, float[] values) {}

  /**
   * Reads {@code folder}.
   *
   * @throws IllegalArgumentException when the folder is not a layers-format model, a shard is
   *     missing or of the wrong length, or a weight has a dtype or quantisation other than
   *     float32, uint8 or uint16
   */
  public static TfjsLayersModel read(Path folder) {
    Path file = folder.resolve(MODEL_FILE);
    JsonNode root;
    try {
      root = JSON.readTree(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(folder + " has no " + MODEL_FILE
          + ": expected a TensorFlow.js layers-format model (model.json + weight shards)", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    JsonNode modelConfig = root.path("modelTopology").path("model_config");
    if (modelConfig.isMissingNode()) {
      // tensorflowjs_converter writes the Keras config either wrapped in model_config or bare.
      modelConfig = root.path("modelTopology");
    }
    String modelClass = modelConfig.path("class_name").asText();
    if (!modelClass.equals("Model") && !modelClass.equals("Functional")) {
      throw new IllegalArgumentException(file + ": modelTopology is a '" + modelClass
          + "'; only functional Keras models (class Model/Functional) are supported");
    }
    JsonNode config = modelConfig.path("config");
    List<Layer> layers = new ArrayList<>();
    for (JsonNode layer : config.path("layers")) {
      layers.add(layer(file, layer));
    }
    if (layers.isEmpty()) {
      throw new IllegalArgumentException(file + ": the topology has no layers");
    }
    return new TfjsLayersModel(List.copyOf(layers), readWeights(folder, file, root.path("weightsManifest")),
        names(config.path("input_layers")), names(config.path("output_layers")));
  }

  private static Layer layer(Path file, JsonNode layer) {
    String name = layer.path("name").asText();
    JsonNode nodes = layer.path("inbound_nodes");
    if (nodes.size() > 1) {
      throw new IllegalArgumentException(file + ": layer '" + name + "' is called " + nodes.size()
          + " times (a shared layer); only layers called once are supported");
    }
    List<String> inbound = new ArrayList<>();
    if (nodes.size() == 1) {
      for (JsonNode in : nodes.get(0)) {
        // Keras 2: [layer_name, node_index, tensor_index, kwargs]
        if (in.path(1).asInt() != 0 || in.path(2).asInt() != 0) {
          throw new IllegalArgumentException(file + ": layer '" + name + "' takes output "
              + in.path(2).asInt() + " of call " + in.path(1).asInt() + " of '" + in.path(0).asText()
              + "'; only single-output layers called once are supported");
        }
        inbound.add(in.path(0).asText());
      }
    }
    return new Layer(name, layer.path("class_name").asText(), layer.path("config"), List.copyOf(inbound));
  }

  private static List<String> names(JsonNode refs) {
    List<String> out = new ArrayList<>();
    for (JsonNode ref : refs) {
      out.add(ref.path(0).asText());
    }
    return List.copyOf(out);
  }

  private static Map<String, Weight> readWeights(Path folder, Path file, JsonNode manifest) {
    Map<String, Weight> weights = new LinkedHashMap<>();
    for (JsonNode group : manifest) {
      ByteBuffer data = concatenate(folder, group.path("paths"));
      for (JsonNode spec : group.path("weights")) {
        String name = spec.path("name").asText();
        long[] shape = new long[spec.path("shape").size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
          shape[i] = spec.path("shape").get(i).asLong();
          count *= shape[i];
        }
        float[] values = decode(file, name, spec, data, Math.toIntExact(count));
        weights.put(name, new Weight(name, shape, values));
      }
      if (data.hasRemaining()) {
        throw new IllegalArgumentException(file + ": the shards of " + group.path("paths") + " hold "
            + data.remaining() + " bytes more than the manifest's weights");
      }
    }
    return Collections.unmodifiableMap(weights);
  }

  private static ByteBuffer concatenate(Path folder, JsonNode paths) {
    List<byte[]> parts = new ArrayList<>();
    int total = 0;
    for (JsonNode path : paths) {
      Path shard = folder.resolve(path.asText());
      try {
        byte[] bytes = Files.readAllBytes(shard);
        parts.add(bytes);
        total = Math.addExact(total, bytes.length);
      } catch (NoSuchFileException e) {
        throw new IllegalArgumentException("weight shard " + shard + " named in " + MODEL_FILE + " is missing", e);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + shard, e);
      }
    }
    ByteBuffer all = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
    parts.forEach(all::put);
    return all.flip();
  }

  private static float[] decode(Path file, String name, JsonNode spec, ByteBuffer data, int count) {
    String dtype = spec.path("dtype").asText("float32");
    if (!dtype.equals("float32")) {
      throw new IllegalArgumentException(file + ": weight '" + name + "' has dtype " + dtype
          + "; only float32 weights are supported");
    }
    JsonNode quantization = spec.path("quantization");
    float[] values = new float[count];
    if (quantization.isMissingNode()) {
      require(file, name, data, 4L * count);
      data.asFloatBuffer().get(values);
      data.position(data.position() + 4 * count);
      return values;
    }
    String stored = quantization.path("dtype").asText();
    if (!quantization.has("scale") || !quantization.has("min")) {
      throw new IllegalArgumentException(file + ": weight '" + name + "' is quantised as " + stored
          + " without scale and min; only affine uint8/uint16 quantisation is supported");
    }
    double scale = quantization.path("scale").asDouble();
    double min = quantization.path("min").asDouble();
    switch (stored) {
      case "uint8" -> {
        require(file, name, data, count);
        for (int i = 0; i < count; i++) {
          values[i] = (float) (min + scale * (data.get() & 0xFF));
        }
      }
      case "uint16" -> {
        require(file, name, data, 2L * count);
        for (int i = 0; i < count; i++) {
          values[i] = (float) (min + scale * (data.getShort() & 0xFFFF));
        }
      }
      default -> throw new IllegalArgumentException(file + ": weight '" + name + "' is quantised as '"
          + stored + "'; only uint8 and uint16 quantisation are supported");
    }
    return values;
  }

  private static void require(Path file, String name, ByteBuffer data, long bytes) {
    if (data.remaining() < bytes) {
      throw new IllegalArgumentException(file + ": the weight shards end inside weight '" + name + "' ("
          + bytes + " bytes needed, " + data.remaining() + " left)");
    }
  }

  /** The layer called {@code name}. */
  public Layer layer(String name) {
    return layers.stream().filter(l -> l.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("the model has no layer '" + name + "'"));
  }
}
