package dev.similarity.embedding.training;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.types.TFloat32;

/** Graph-building helpers shared by the trained network and the Keras importer. */
public final class GraphOps {

  private static final float NORM_EPSILON = 1e-12f;

  private GraphOps() {}

  /**
   * The scope that names the next op {@code name}: {@code "layer3/kernel"} becomes op
   * {@code kernel} in sub-scope {@code layer3} (op names may not contain '/'). Variables built
   * through it are saved and restored under {@code name}.
   */
  public static Ops scoped(Ops tf, String name) {
    Ops scope = tf;
    String[] parts = name.split("/");
    for (int i = 0; i < parts.length - 1; i++) {
      scope = scope.withSubScope(parts[i]);
    }
    return scope.withName(parts[parts.length - 1]);
  }

  /** Rows of {@code x} ([batch, d]) scaled to unit L2 length (an all-zero row stays zero). */
  public static Operand<TFloat32> l2Normalise(Ops tf, Operand<TFloat32> x) {
    Operand<TFloat32> squared = tf.reduceSum(tf.math.square(x), tf.constant(1), ReduceSum.keepDims(true));
    return tf.math.mul(x, tf.math.rsqrt(tf.math.add(squared, tf.constant(NORM_EPSILON))));
  }
}
