package dev.similarity.index.tools;

import java.util.SplittableRandom;
import org.apache.lucene.util.VectorUtil;

/**
 * Random unit vectors grouped around random centres, a stand-in for image embeddings (which cluster
 * by product type). Deterministic for a seed.
 *
 * <p>Each vector is {@code normalise(centre + spread * g / sqrt(d))} with g standard normal, so with
 * spread 1 a vector's cosine to its centre is about 0.7.
 */
public final class ClusteredUnitVectors {

  private final int dimension;
  private final float[][] centres;
  private final double spread;
  private final SplittableRandom random;

  public ClusteredUnitVectors(int dimension, int clusters, double spread, long seed) {
    if (dimension < 1 || clusters < 1 || !(spread >= 0)) {
      throw new IllegalArgumentException(
          "dimension and clusters must be >= 1 and spread >= 0, got "
              + dimension
              + ", "
              + clusters
              + ", "
              + spread);
    }
    this.dimension = dimension;
    this.spread = spread;
    this.random = new SplittableRandom(seed);
    this.centres = new float[clusters][];
    for (int c = 0; c < clusters; c++) {
      centres[c] = gaussianUnitVector();
    }
  }

  /** The next vector: near a centre chosen uniformly at random. */
  public float[] next() {
    float[] centre = centres[random.nextInt(centres.length)];
    float[] v = new float[dimension];
    double scale = spread / Math.sqrt(dimension);
    for (int i = 0; i < dimension; i++) {
      v[i] = (float) (centre[i] + scale * gaussian());
    }
    return VectorUtil.l2normalize(v);
  }

  public float[][] next(int count) {
    float[][] vectors = new float[count][];
    for (int i = 0; i < count; i++) {
      vectors[i] = next();
    }
    return vectors;
  }

  private float[] gaussianUnitVector() {
    float[] v = new float[dimension];
    for (int i = 0; i < dimension; i++) {
      v[i] = (float) gaussian();
    }
    return VectorUtil.l2normalize(v);
  }

  private double gaussian() {
    return random.nextGaussian();
  }
}
