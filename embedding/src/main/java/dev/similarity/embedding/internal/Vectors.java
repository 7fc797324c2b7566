package dev.similarity.embedding.internal;

/** Small float-vector helpers shared by serving, evaluation and the CLIs. */
public final class Vectors {

  private Vectors() {}

  /** Scales {@code v} in place to unit length and returns it; a zero vector stays zero. */
  public static float[] l2Normalise(float[] v) {
    double sum = 0;
    for (float x : v) {
      sum += (double) x * x;
    }
    if (sum > 0) {
      float inv = (float) (1.0 / Math.sqrt(sum));
      for (int i = 0; i < v.length; i++) {
        v[i] *= inv;
      }
    }
    return v;
  }

  /** Dot product; the cosine similarity of unit vectors. */
  public static float dot(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("vectors of length " + a.length + " and " + b.length);
    }
    float s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
