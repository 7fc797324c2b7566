package dev.similarity.embedding.training;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The layer stack of the embedding network, written as a compact string such as
 * {@code conv32-pool-drop0.25-conv64-conv64-pool-drop0.25-dense256-embed128}.
 *
 * <p>Tokens, separated by {@code -}: {@code convN} (3x3, stride 1, SAME padding, ReLU, N filters),
 * {@code pool} (2x2 max pool, stride 2), {@code dropX} (dropout with drop rate X, training only),
 * {@code denseN} (fully connected, ReLU; flattens first if needed) and, last and exactly once,
 * {@code embedN} (linear projection to N dimensions followed by L2 normalisation: the "metric
 * embedding" of TF Similarity).
 */
public record NetworkSpec(String text, List<Layer> layers) {

  /** One layer of the stack. */
  public sealed interface Layer {}

  /** 3x3 convolution with bias and ReLU. */
  public record Conv(int filters) implements Layer {}

  /** 2x2 max pooling, stride 2. */
  public record Pool() implements Layer {}

  /** Dropout with the given drop rate, applied only while training. */
  public record Dropout(float rate) implements Layer {}

  /** Fully connected layer with bias and ReLU. */
  public record Dense(int units) implements Layer {}

  /** Final linear projection to the embedding, then L2 normalisation. */
  public record Embed(int dimension) implements Layer {}

  public NetworkSpec {
    layers = List.copyOf(layers);
  }

  /** Parses the compact form; the message of a failure names the offending token. */
  public static NetworkSpec parse(String text) {
    List<Layer> layers = new ArrayList<>();
    for (String raw : text.trim().toLowerCase(Locale.ROOT).split("-")) {
      try {
        layers.add(parseToken(raw));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("network spec '" + text + "': bad layer '" + raw
            + "' (use convN, pool, dropX, denseN, embedN)", e);
      }
    }
    if (layers.isEmpty() || !(layers.getLast() instanceof Embed)) {
      throw new IllegalArgumentException("network spec '" + text + "' must end with embedN");
    }
    if (layers.stream().filter(l -> l instanceof Embed).count() != 1) {
      throw new IllegalArgumentException("network spec '" + text + "' must have exactly one embedN");
    }
    return new NetworkSpec(text, layers);
  }

  private static Layer parseToken(String token) {
    if (token.equals("pool")) {
      return new Pool();
    }
    if (token.startsWith("conv")) {
      return new Conv(positive(Integer.parseInt(token.substring(4))));
    }
    if (token.startsWith("dense")) {
      return new Dense(positive(Integer.parseInt(token.substring(5))));
    }
    if (token.startsWith("embed")) {
      return new Embed(positive(Integer.parseInt(token.substring(5))));
    }
    if (token.startsWith("drop")) {
      float rate = Float.parseFloat(token.substring(4));
      if (!(rate >= 0 && rate < 1)) {
        throw new IllegalArgumentException("drop rate must be in [0, 1)");
      }
      return new Dropout(rate);
    }
    throw new IllegalArgumentException("unknown layer");
  }

  private static int positive(int n) {
    if (n <= 0) {
      throw new IllegalArgumentException("size must be positive");
    }
    return n;
  }

  /** The embedding dimension (the size of the final {@code embedN}). */
  public int embeddingDimension() {
    return ((Embed) layers.getLast()).dimension();
  }

  @Override
  public String toString() {
    return text;
  }
}
