package dev.similarity.index;

import org.apache.lucene.util.VectorUtil;

/** Hand-made unit vectors for small, readable tests. */
final class TestVectors {

  private TestVectors() {}

  /** The unit vector along {@code axis} in {@code dimension} dimensions. */
  static float[] axis(int dimension, int axis) {
    float[] v = new float[dimension];
    v[axis] = 1f;
    return v;
  }

  /** The unit vector in the direction of {@code components}. */
  static float[] unit(float... components) {
    return VectorUtil.l2normalize(components.clone());
  }
}
