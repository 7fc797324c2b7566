package dev.similarity.index.internal;

import java.util.Locale;

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
    double squaredNorm = 0;
    for (int i = 0; i < vector.length; i++) {
      float x = vector[i];
      if (!Float.isFinite(x)) {
        throw new IllegalArgumentException(
            what + " has " + x + " at index " + i + "; every component must be finite");
      }
      squaredNorm += (double) x * x;
    }
    double norm = Math.sqrt(squaredNorm);
    if (Math.abs(norm - 1.0) > UNIT_NORM_TOLERANCE) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "%s has L2 norm %.6f; the index scores by dot product and needs unit-length vectors"
                  + " (norm 1 +- %.0e): divide the vector by its L2 norm before indexing or"
                  + " searching",
              what,
              norm,
              UNIT_NORM_TOLERANCE));
    }
  }
}
