package dev.similarity.index;

import org.apache.lucene.util.VectorUtil;

/**
 * Int8 codes of float vectors, for scans that compare one vector with many and need the exact answer
 * only near a threshold: the code's dot product, with a bound on its error, tells most pairs apart at a
 * quarter of the bytes read; the few within the bound are rescored exactly.
 *
 * <p>A code is {@code round(x * scale)} per component, within [-127, 127]. With a vector's own scale
 * ({@link #scaleOf}: 127 over its largest absolute component) nothing is clamped, so each decoded
 * component {@code c / scale} is within {@code 0.5 / scale} of the original.
 */
public final class Int8Codes {

  private Int8Codes() {}

  /** 127 over the largest absolute component of {@code vector} (1 for a zero vector). */
  public static float scaleOf(float[] vector) {
    float maxAbs = 0;
    for (float x : vector) {
      maxAbs = Math.max(maxAbs, Math.abs(x));
    }
    return maxAbs == 0 ? 1 : 127 / maxAbs;
  }

  /**
   * The int8 code of {@code vector}: each component times {@code scale}, rounded, within [-127, 127]
   * (a component beyond {@code 127 / scale} is clamped, and the bound of {@link #dotErrorBound} then
   * does not hold).
   */
  public static byte[] encode(float[] vector, float scale) {
    byte[] code = new byte[vector.length];
    for (int i = 0; i < vector.length; i++) {
      code[i] = (byte) Math.max(-127, Math.min(127, Math.round(vector[i] * scale)));
    }
    return code;
  }

  /** The dot product of two vectors from their codes and scales (an estimate; see {@link #dotErrorBound}). */
  public static float dot(byte[] a, float scaleA, byte[] b, float scaleB) {
    return VectorUtil.dotProduct(a, b) / (scaleA * scaleB);
  }

  /**
   * A bound on the norm of a code's error, decoded minus original, for a vector encoded in {@code
   * dimension} dimensions with a scale at least its own {@link #scaleOf} would allow (nothing clamped):
   * each component is within {@code 0.5 / scale}, so the norm is at most {@code 0.5 sqrt(dimension) /
   * scale}.
   */
  public static float errorNorm(int dimension, float scale) {
    return (float) (0.5 * Math.sqrt(dimension) / scale);
  }

  /**
   * A bound on {@code |dot(codes) - dot(vectors)|} for two vectors of norms {@code normA} and {@code
   * normB} whose codes' errors have norms at most {@code errorNormA} and {@code errorNormB} ({@link
   * #errorNorm}), in {@code dimension} dimensions: with decoded {@code x + e} and {@code y + f}, the
   * error {@code x.f + e.y + e.f} is at most {@code |x||f| + |y||e| + |e||f|} (Cauchy-Schwarz), plus a
   * margin for the float rounding of both dot products (1e-4 and 1e-7 per dimension).
   */
  public static float dotErrorBound(
      int dimension, float normA, float errorNormA, float normB, float errorNormB) {
    return normA * errorNormB + normB * errorNormA + errorNormA * errorNormB + 1e-4f + 1e-7f * dimension;
  }
}
