package dev.similarity.embedding.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.random.RandomUniform;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Builds the embedding network of a {@link NetworkSpec} as TensorFlow graph ops, once for training
 * (with dropout) and once for serving (without), over the same named parameters.
 *
 * <p>Parameter names ({@code layer3/kernel}, {@code layer3/bias}) are the variable names in the
 * training graph, in its checkpoint and in the exported SavedModel; the serving graph restores
 * them by name, so both builds must walk the layers identically.
 */
final class EmbeddingNetwork {

  /** One trainable tensor: its variable name, shape and how it is initialised. */
  record Parameter(String name, long[] shape, int fanIn, int fanOut, boolean bias) {
    int size() {
      return (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    }

    /**
     * Initial values: zeros for biases, He-uniform for kernels that feed a ReLU, Glorot-uniform
     * when {@code glorot} (the final, linear projection).
     */
    float[] initialValues(SplittableRandom random, boolean glorot) {
      float[] values = new float[size()];
      if (bias) {
        return values;
      }
      double limit = glorot ? Math.sqrt(6.0 / (fanIn + fanOut)) : Math.sqrt(6.0 / fanIn);
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) ((random.nextDouble() * 2 - 1) * limit);
      }
      return values;
    }
  }

  private final NetworkSpec spec;
  private final int height;
  private final int width;
  private final int channels;
  private final List<Parameter> parameters;

  EmbeddingNetwork(NetworkSpec spec, int height, int width, int channels) {
    this.spec = spec;
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.parameters = describeParameters();
  }

  NetworkSpec spec() {
    return spec;
  }

  List<Parameter> parameters() {
    return parameters;
  }

  /** Name of the final projection's kernel, initialised Glorot-uniform. */
  String embeddingKernelName() {
    return "layer" + (spec.layers().size() - 1) + "/kernel";
  }

  private List<Parameter> describeParameters() {
    List<Parameter> out = new ArrayList<>();
    int h = height;
    int w = width;
    int c = channels;
    int flat = -1;
    for (int i = 0; i < spec.layers().size(); i++) {
      String prefix = "layer" + i + "/";
      switch (spec.layers().get(i)) {
        case NetworkSpec.Conv conv -> {
          requireSpatial(flat, "conv");
          out.add(new Parameter(prefix + "kernel", new long[] {3, 3, c, conv.filters()}, 9 * c,
              9 * conv.filters(), false));
          out.add(new Parameter(prefix + "bias", new long[] {conv.filters()}, 0, 0, true));
          c = conv.filters();
        }
        case NetworkSpec.Pool pool -> {
          requireSpatial(flat, "pool");
          h /= 2;
          w /= 2;
          if (h == 0 || w == 0) {
            throw new IllegalArgumentException("network spec '" + spec + "' pools a "
                + height + "x" + width + " input below 1x1");
          }
        }
        case NetworkSpec.Dropout dropout -> { }
        case NetworkSpec.Dense dense -> {
          int in = flat > 0 ? flat : h * w * c;
          out.add(new Parameter(prefix + "kernel", new long[] {in, dense.units()}, in, dense.units(), false));
          out.add(new Parameter(prefix + "bias", new long[] {dense.units()}, 0, 0, true));
          flat = dense.units();
        }
        case NetworkSpec.Embed embed -> {
          int in = flat > 0 ? flat : h * w * c;
          out.add(new Parameter(prefix + "kernel", new long[] {in, embed.dimension()}, in,
              embed.dimension(), false));
          out.add(new Parameter(prefix + "bias", new long[] {embed.dimension()}, 0, 0, true));
          flat = embed.dimension();
        }
      }
    }
    return List.copyOf(out);
  }

  private void requireSpatial(int flat, String layer) {
    if (flat > 0) {
      throw new IllegalArgumentException("network spec '" + spec + "' has " + layer
          + " after a dense layer");
    }
  }

  /**
   * Adds the forward pass to the graph of {@code tf}.
   *
   * @param images NHWC float images, already normalised as the model descriptor says
   * @param params the operand holding each {@link Parameter} by name
   * @param dropoutSeed seed of the dropout masks, or {@code null} to build the serving graph
   *     (dropout off)
   * @return the L2-normalised embeddings, shape [batch, dimension]
   */
  Operand<TFloat32> forward(Ops tf, Operand<TFloat32> images, Map<String, ? extends Operand<TFloat32>> params,
      Long dropoutSeed) {
    Operand<TFloat32> x = images;
    boolean flattened = false;
    for (int i = 0; i < spec.layers().size(); i++) {
      Ops layer = tf.withSubScope("layer" + i);
      String prefix = "layer" + i + "/";
      switch (spec.layers().get(i)) {
        case NetworkSpec.Conv conv -> {
          x = layer.nn.conv2d(x, params.get(prefix + "kernel"), List.of(1L, 1L, 1L, 1L), "SAME");
          x = layer.nn.relu(layer.nn.biasAdd(x, params.get(prefix + "bias")));
        }
        case NetworkSpec.Pool pool -> {
          Operand<TInt32> window = layer.constant(new int[] {1, 2, 2, 1});
          x = layer.nn.maxPool(x, window, window, "VALID");
        }
        case NetworkSpec.Dropout dropout -> {
          if (dropoutSeed != null && dropout.rate() > 0) {
            x = dropout(layer, x, dropout.rate(), dropoutSeed, i);
          }
        }
        case NetworkSpec.Dense dense -> {
          if (!flattened) {
            x = flatten(layer, x, prefix + "kernel");
            flattened = true;
          }
          x = layer.linalg.matMul(x, params.get(prefix + "kernel"));
          x = layer.nn.relu(layer.nn.biasAdd(x, params.get(prefix + "bias")));
        }
        case NetworkSpec.Embed embed -> {
          if (!flattened) {
            x = flatten(layer, x, prefix + "kernel");
            flattened = true;
          }
          x = layer.linalg.matMul(x, params.get(prefix + "kernel"));
          x = layer.nn.biasAdd(x, params.get(prefix + "bias"));
          x = GraphOps.l2Normalise(layer, x);
        }
      }
    }
    return x;
  }

  // The first fully connected layer's kernel has one row per value of the flattened feature map.
  private Operand<TFloat32> flatten(Ops tf, Operand<TFloat32> x, String kernelName) {
    Parameter kernel = parameters.stream().filter(p -> p.name().equals(kernelName)).findFirst().orElseThrow();
    return tf.reshape(x, tf.constant(new int[] {-1, (int) kernel.shape()[0]}));
  }

  // Inverted dropout: keep with probability 1 - rate and scale the kept values by 1 / (1 - rate),
  // so serving (no dropout) sees the same expected activations.
  private static Operand<TFloat32> dropout(Ops tf, Operand<TFloat32> x, float rate, long seed, int layer) {
    float keep = 1f - rate;
    Operand<TFloat32> noise = tf.random.randomUniform(tf.shape(x), TFloat32.class,
        RandomUniform.seed(seed), RandomUniform.seed2(1000L + layer));
    Operand<TFloat32> mask = tf.math.floor(tf.math.add(noise, tf.constant(keep)));
    return tf.math.mul(x, tf.math.mul(mask, tf.constant(1f / keep)));
  }
}
