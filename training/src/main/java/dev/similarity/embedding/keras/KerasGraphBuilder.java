package dev.similarity.embedding.keras;

import com.fasterxml.jackson.databind.JsonNode;
import dev.similarity.embedding.keras.TfjsLayersModel.Layer;
import dev.similarity.embedding.keras.TfjsLayersModel.Weight;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TFloat32;

/**
 * Rebuilds a Keras functional model, layer by layer, as TensorFlow graph ops (NHWC, inference
 * mode: batch normalisation with its moving statistics, dropout off).
 *
 * <p>Supported layer classes are exactly {@link #SUPPORTED}, the ones the Inception-V3 and
 * MobileNet-V2 of nsfwjs use plus {@code GlobalAveragePooling2D}; a model with any other class, or
 * a supported class with an option this builder does not implement (dilation, a channels-first
 * layout, a leaky or thresholded ReLU, ...), is refused with the layer's name, before any op is
 * built. Weights come from a caller-supplied function so that the same walk can build a graph over
 * variables (for the SavedModel) or over constants.
 */
public final class KerasGraphBuilder {

  /** The Keras layer classes this builder implements. */
  public static final Set<String> SUPPORTED = Set.of("InputLayer", "Conv2D", "DepthwiseConv2D",
      "BatchNormalization", "Activation", "ReLU", "ZeroPadding2D", "MaxPooling2D", "AveragePooling2D",
      "GlobalAveragePooling2D", "Concatenate", "Add", "Flatten", "Dense", "Dropout");

  // The activations the two networks use: linear convolutions, relu, and the heads' softmax.
  private static final Set<String> ACTIVATIONS = Set.of("linear", "relu", "softmax");

  private final TfjsLayersModel model;
  private final String outputLayer;
  private final List<Layer> needed;

  /**
   * Plans the graph from the model's input to {@code outputLayer}.
   *
   * @throws IllegalArgumentException when {@code outputLayer} does not exist or any layer of the
   *     model is of an unsupported class or configuration
   */
  public KerasGraphBuilder(TfjsLayersModel model, String outputLayer) {
    this.model = model;
    this.outputLayer = outputLayer;
    for (Layer layer : model.layers()) {
      check(layer);
    }
    this.needed = ancestors(model, outputLayer);
  }

  /** The layers the graph is built from, in topology order, input first and output last. */
  public List<Layer> layers() {
    return needed;
  }

  /** The weights the graph reads, by name, in the order the layers use them. */
  public Map<String, Weight> weights() {
    Map<String, Weight> out = new LinkedHashMap<>();
    for (Layer layer : needed) {
      for (String parameter : parameters(layer)) {
        String name = layer.name() + "/" + parameter;
        Weight w = model.weights().get(name);
        if (w == null) {
          throw new IllegalArgumentException("layer '" + layer.name() + "' (" + layer.className()
              + ") needs weight '" + name + "' but the weight manifest has none");
        }
        out.put(name, w);
      }
    }
    return out;
  }

  /** Input layer's {@code [height, width, channels]}. */
  public int[] inputShape() {
    Layer input = needed.get(0);
    JsonNode shape = input.config().path("batch_input_shape");
    if (shape.size() != 4) {
      throw new IllegalArgumentException("input layer '" + input.name() + "' has batch_input_shape " + shape
          + "; an image input [null, height, width, channels] is required");
    }
    return new int[] {shape.get(1).asInt(), shape.get(2).asInt(), shape.get(3).asInt()};
  }

  /**
   * Adds the forward pass to the graph of {@code tf}.
   *
   * @param input NHWC float32 images as the Keras model receives them
   * @param weight the operand of a weight, by manifest name and shape
   * @return the output of {@link #outputLayer}
   */
  public Operand<TFloat32> build(Ops tf, Operand<TFloat32> input,
      BiFunction<String, long[], Operand<TFloat32>> weight) {
    Map<String, Operand<TFloat32>> outputs = new HashMap<>();
    for (Layer layer : needed) {
      List<Operand<TFloat32>> in = new ArrayList<>();
      for (String name : layer.inbound()) {
        in.add(outputs.get(name));
      }
      Ops scope = tf.withSubScope(layer.name());
      Operand<TFloat32> out = layer.className().equals("InputLayer")
          ? input
          : apply(scope, layer, in, (p) -> {
            Weight w = model.weights().get(layer.name() + "/" + p);
            return weight.apply(w.name(), w.shape());
          });
      outputs.put(layer.name(), out);
    }
    return outputs.get(outputLayer);
  }

  private interface Weights {
    Operand<TFloat32> get(String parameter);
  }

  private static Operand<TFloat32> apply(Ops tf, Layer layer, List<Operand<TFloat32>> in, Weights w) {
    JsonNode c = layer.config();
    Operand<TFloat32> x = in.isEmpty() ? null : in.get(0);
    return switch (layer.className()) {
      case "Conv2D" -> {
        Operand<TFloat32> y = tf.nn.conv2d(x, w.get("kernel"), strides(c), padding(c));
        yield activation(tf, c, bias(tf, c, y, w));
      }
      case "DepthwiseConv2D" -> {
        Operand<TFloat32> y = tf.nn.depthwiseConv2dNative(x, w.get("depthwise_kernel"), strides(c), padding(c));
        yield activation(tf, c, bias(tf, c, y, w));
      }
      case "BatchNormalization" -> {
        long channels = x.shape().get(3);
        Operand<TFloat32> gamma = c.path("scale").asBoolean(true) ? w.get("gamma") : fill(tf, channels, 1f);
        Operand<TFloat32> beta = c.path("center").asBoolean(true) ? w.get("beta") : fill(tf, channels, 0f);
        yield tf.nn.fusedBatchNorm(x, gamma, beta, w.get("moving_mean"), w.get("moving_variance"),
            FusedBatchNorm.epsilon((float) c.path("epsilon").asDouble(1e-3)), FusedBatchNorm.isTraining(false),
            FusedBatchNorm.dataFormat("NHWC")).y();
      }
      case "Activation" -> activation(tf, c, x);
      case "ReLU" -> {
        if (c.path("max_value").isNull() || c.path("max_value").isMissingNode()) {
          yield tf.nn.relu(x);
        }
        float max = (float) c.path("max_value").asDouble();
        yield max == 6f ? tf.nn.relu6(x) : tf.math.minimum(tf.nn.relu(x), tf.constant(max));
      }
      case "ZeroPadding2D" -> {
        int[][] p = zeroPadding(layer);
        yield tf.pad(x, tf.constant(new int[][] {{0, 0}, p[0], p[1], {0, 0}}), tf.constant(0f));
      }
      case "MaxPooling2D" -> tf.nn.maxPool(x, tf.constant(window(c, "pool_size")), tf.constant(poolStrides(c)),
          padding(c));
      case "AveragePooling2D" -> tf.nn.avgPool(x, asLongs(window(c, "pool_size")), asLongs(poolStrides(c)),
          padding(c));
      case "GlobalAveragePooling2D" -> tf.math.mean(x, tf.constant(new int[] {1, 2}));
      case "Concatenate" -> {
        int rank = x.shape().numDimensions();
        int axis = c.path("axis").asInt(-1);
        yield tf.concat(in, tf.constant(axis < 0 ? rank + axis : axis));
      }
      case "Add" -> in.size() == 2 ? tf.math.add(in.get(0), in.get(1)) : tf.math.addN(in);
      case "Flatten" -> {
        Shape s = x.shape();
        long size = 1;
        for (int i = 1; i < s.numDimensions(); i++) {
          size *= s.get(i);
        }
        yield tf.reshape(x, tf.constant(new long[] {-1, size}));
      }
      case "Dense" -> activation(tf, c, bias(tf, c, tf.linalg.matMul(x, w.get("kernel")), w));
      case "Dropout" -> tf.identity(x);
      default -> throw new IllegalStateException("unchecked layer class " + layer.className());
    };
  }

  private static Operand<TFloat32> bias(Ops tf, JsonNode c, Operand<TFloat32> x, Weights w) {
    return c.path("use_bias").asBoolean(true) ? tf.nn.biasAdd(x, w.get("bias")) : x;
  }

  private static Operand<TFloat32> activation(Ops tf, JsonNode c, Operand<TFloat32> x) {
    return switch (c.path("activation").asText("linear")) {
      case "linear" -> x;
      case "relu" -> tf.nn.relu(x);
      case "softmax" -> tf.nn.softmax(x);
      default -> throw new IllegalStateException("unchecked activation " + c.path("activation"));
    };
  }

  private static Operand<TFloat32> fill(Ops tf, long n, float value) {
    float[] values = new float[Math.toIntExact(n)];
    java.util.Arrays.fill(values, value);
    return tf.constant(values);
  }

  private static List<Long> strides(JsonNode c) {
    return List.of(1L, c.path("strides").path(0).asLong(1), c.path("strides").path(1).asLong(1), 1L);
  }

  private static String padding(JsonNode c) {
    return c.path("padding").asText("valid").toUpperCase(Locale.ROOT);
  }

  private static int[] window(JsonNode c, String key) {
    return new int[] {1, c.path(key).path(0).asInt(), c.path(key).path(1).asInt(), 1};
  }

  // Keras pooling: strides null means strides = pool_size.
  private static int[] poolStrides(JsonNode c) {
    return c.path("strides").isNull() || c.path("strides").isMissingNode() ? window(c, "pool_size")
        : window(c, "strides");
  }

  private static List<Long> asLongs(int[] values) {
    List<Long> out = new ArrayList<>();
    for (int v : values) {
      out.add((long) v);
    }
    return out;
  }

  // padding: n, [h, w] or [[top, bottom], [left, right]].
  private static int[][] zeroPadding(Layer layer) {
    JsonNode p = layer.config().path("padding");
    if (p.isInt()) {
      return new int[][] {{p.asInt(), p.asInt()}, {p.asInt(), p.asInt()}};
    }
    if (p.size() == 2 && p.get(0).isInt()) {
      return new int[][] {{p.get(0).asInt(), p.get(0).asInt()}, {p.get(1).asInt(), p.get(1).asInt()}};
    }
    if (p.size() == 2 && p.get(0).size() == 2 && p.get(1).size() == 2) {
      return new int[][] {{p.get(0).get(0).asInt(), p.get(0).get(1).asInt()},
          {p.get(1).get(0).asInt(), p.get(1).get(1).asInt()}};
    }
    throw new IllegalArgumentException("ZeroPadding2D layer '" + layer.name() + "' has padding " + p
        + "; expected n, [h, w] or [[top, bottom], [left, right]]");
  }

  private static List<String> parameters(Layer layer) {
    JsonNode c = layer.config();
    List<String> out = new ArrayList<>();
    switch (layer.className()) {
      case "Conv2D", "Dense" -> {
        out.add("kernel");
        if (c.path("use_bias").asBoolean(true)) {
          out.add("bias");
        }
      }
      case "DepthwiseConv2D" -> {
        out.add("depthwise_kernel");
        if (c.path("use_bias").asBoolean(true)) {
          out.add("bias");
        }
      }
      case "BatchNormalization" -> {
        if (c.path("scale").asBoolean(true)) {
          out.add("gamma");
        }
        if (c.path("center").asBoolean(true)) {
          out.add("beta");
        }
        out.add("moving_mean");
        out.add("moving_variance");
      }
      default -> { }
    }
    return out;
  }

  /** Refuses a layer this builder cannot reproduce exactly, naming it and what to change. */
  static void check(Layer layer) {
    String kind = layer.className();
    JsonNode c = layer.config();
    String where = kind + " layer '" + layer.name() + "'";
    if (!SUPPORTED.contains(kind)) {
      throw new IllegalArgumentException("unsupported layer class " + kind + " (layer '" + layer.name()
          + "'); the importer supports " + new java.util.TreeSet<>(SUPPORTED));
    }
    if (c.has("data_format") && !c.path("data_format").asText().equals("channels_last")) {
      throw new IllegalArgumentException(where + " has data_format " + c.path("data_format")
          + "; only channels_last is supported");
    }
    if (c.has("dilation_rate")) {
      for (JsonNode d : c.path("dilation_rate")) {
        if (d.asInt() != 1) {
          throw new IllegalArgumentException(where + " has dilation_rate " + c.path("dilation_rate")
              + "; only 1 is supported");
        }
      }
    }
    if (c.has("activation") && !ACTIVATIONS.contains(c.path("activation").asText())) {
      throw new IllegalArgumentException(where + " has activation " + c.path("activation")
          + "; supported: " + new java.util.TreeSet<>(ACTIVATIONS));
    }
    if (c.has("padding") && !kind.equals("ZeroPadding2D")) {
      String padding = c.path("padding").asText();
      if (!padding.equals("valid") && !padding.equals("same")) {
        throw new IllegalArgumentException(where + " has padding " + c.path("padding") + "; only valid and same");
      }
    }
    switch (kind) {
      case "DepthwiseConv2D" -> {
        if (c.path("depth_multiplier").asInt(1) != 1) {
          throw new IllegalArgumentException(where + " has depth_multiplier " + c.path("depth_multiplier")
              + "; only 1 is supported");
        }
      }
      case "BatchNormalization" -> {
        int axis = c.path("axis").isArray() ? c.path("axis").path(0).asInt() : c.path("axis").asInt(-1);
        if (axis != -1 && axis != 3) {
          throw new IllegalArgumentException(where + " normalises axis " + c.path("axis")
              + "; only the channel axis of NHWC images (3 or -1) is supported");
        }
      }
      case "ReLU" -> {
        if (c.path("negative_slope").asDouble(0) != 0 || c.path("threshold").asDouble(0) != 0) {
          throw new IllegalArgumentException(where + " has negative_slope " + c.path("negative_slope")
              + " and threshold " + c.path("threshold") + "; only a plain or capped ReLU is supported");
        }
      }
      case "Concatenate" -> {
        int axis = c.path("axis").asInt(-1);
        if (axis != -1 && axis != 3) {
          throw new IllegalArgumentException(where + " concatenates axis " + axis + "; only channels (3 or -1)");
        }
      }
      default -> { }
    }
  }

  // The layers the output depends on, in topology order; a layer with no path to an input fails.
  private static List<Layer> ancestors(TfjsLayersModel model, String output) {
    Map<String, Layer> byName = new HashMap<>();
    for (Layer layer : model.layers()) {
      byName.put(layer.name(), layer);
    }
    if (!byName.containsKey(output)) {
      throw new IllegalArgumentException("the model has no layer '" + output + "'; its last layers are "
          + model.layers().subList(Math.max(0, model.layers().size() - 8), model.layers().size()).stream()
              .map(Layer::name).toList());
    }
    Set<String> wanted = new LinkedHashSet<>();
    List<String> stack = new ArrayList<>(List.of(output));
    while (!stack.isEmpty()) {
      String name = stack.remove(stack.size() - 1);
      if (wanted.add(name)) {
        Layer layer = byName.get(name);
        if (layer == null) {
          throw new IllegalArgumentException("a layer takes input from '" + name + "', which the model lacks");
        }
        stack.addAll(layer.inbound());
      }
    }
    List<Layer> ordered = new ArrayList<>();
    Set<String> built = new java.util.HashSet<>();
    // Keras lists layers in a topological order already; check it rather than trust it.
    for (Layer layer : model.layers()) {
      if (!wanted.contains(layer.name())) {
        continue;
      }
      for (String in : layer.inbound()) {
        if (!built.contains(in)) {
          throw new IllegalArgumentException("layer '" + layer.name() + "' is listed before its input '" + in + "'");
        }
      }
      built.add(layer.name());
      ordered.add(layer);
    }
    List<Layer> inputs = ordered.stream().filter(l -> l.className().equals("InputLayer")).toList();
    if (inputs.size() != 1 || ordered.get(0) != inputs.get(0)) {
      throw new IllegalArgumentException("layer '" + output + "' depends on " + inputs.size()
          + " input layers; exactly one image input is supported");
    }
    return List.copyOf(ordered);
  }
}
