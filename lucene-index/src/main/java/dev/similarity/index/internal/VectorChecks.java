package dev.similarity.index.internal;

import org.apache.lucene.util.VectorUtil;

/** Checks on vectors entering a shard index, with errors that say what to fix. */
public final class VectorChecks {

  /**
   * How far from 1 a vector's L2 norm may be. Float32 normalisation is accurate to about 1e-6, so
   * this only refuses vectors that were not normalised at all.
   */
  public static final double UNIT_NORM_TOLERANCE = 1e-3;

  private VectorChecks() {}

  /**
   * Refuses {@code vector} unless it has {@code dimension} finite components and unit L2 norm.
   *
   * @param what names the vector in the error, e.g. {@code "vector of product 'p-17'"}
   */
  public static void requireUnitVector(String what, float[] vector, int dimension) {
    if (vector == null) {
      throw new NullPointerException(what + " is null");
    }
    if (vector.length != dimension) {
      throw new IllegalArgumentException(
          what
              + " has "
              + vector.length
              + " dimensions but this shard index was built with dimension("
              + dimension
              + "): embed with the model the index was built for, or build the index with"
              + " dimension("
              + vector.length
              + ")");
    }
    float squaredNorm = VectorUtil.dotProduct(vector, vector);
    if (!Float.isFinite(squaredNorm)) {
      for (int i = 0; i < vector.length; i++) {
        if (!Float.isFinite(vector[i])) {
          throw new IllegalArgumentException(
              what + " has " + vector[i] + " at index " + i + "; every component must be finite");
        }
      }
      throw new IllegalArgumentException(what + " overflows float when squared; is it normalised?");
    }
    double norm = Math.sqrt(squaredNorm);
    if (Math.abs(norm - 1.0) > UNIT_NORM_TOLERANCE) {
      throw new IllegalArgumentException(
          String.format(
              java.util.Locale.ROOT,
              "%s has L2 norm %.6f; the index scores by dot product and needs unit-length vectors"
                  + " (norm 1 +- %.0e): divide the vector by its L2 norm before indexing or"
                  + " searching",
              what,
              norm,
              UNIT_NORM_TOLERANCE));
    }
  }
}
