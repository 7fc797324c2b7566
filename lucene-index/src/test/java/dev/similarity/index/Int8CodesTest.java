package dev.similarity.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.apache.lucene.util.VectorUtil;
import org.junit.jupiter.api.Test;

class Int8CodesTest {

  private static float[] nearlyUnitVector(Random random, int dimension, boolean spiky) {
    float[] v = new float[dimension];
    for (int i = 0; i < dimension; i++) {
      v[i] = (float) random.nextGaussian();
    }
    if (spiky) {
      v[random.nextInt(dimension)] *= 20; // one dominant component: the coarsest code
    }
    VectorUtil.l2normalize(v);
    // Norms a little off 1, as the job accepts them (VectorChecks: within 1e-3).
    float stretch = 1 + (float) (2e-3 * (random.nextDouble() - 0.5));
    for (int i = 0; i < dimension; i++) {
      v[i] *= stretch;
    }
    return v;
  }

  private static float norm(float[] v) {
    return (float) Math.sqrt(VectorUtil.dotProduct(v, v));
  }

  @Test
  void theScoreOfTwoCodesIsWithinTheirBoundOfTheExactScore() {
    Random random = new Random(7);
    for (int dimension : new int[] {2, 16, 128, 512}) {
      float worstShare = 0;
      for (int n = 0; n < 20_000; n++) {
        float[] a = nearlyUnitVector(random, dimension, n % 3 == 0);
        float[] b = nearlyUnitVector(random, dimension, n % 5 == 0);
        float scaleA = Int8Codes.scaleOf(a);
        float scaleB = Int8Codes.scaleOf(b);
        float estimate = Int8Codes.dot(Int8Codes.encode(a, scaleA), scaleA, Int8Codes.encode(b, scaleB), scaleB);
        float bound =
            Int8Codes.dotErrorBound(
                dimension,
                norm(a),
                Int8Codes.errorNorm(dimension, scaleA),
                norm(b),
                Int8Codes.errorNorm(dimension, scaleB));
        float error = Math.abs(estimate - VectorUtil.dotProduct(a, b));
        assertThat(error).as("error at %d dimensions", dimension).isLessThanOrEqualTo(bound);
        worstShare = Math.max(worstShare, error / bound);
      }
      System.out.printf("%d dimensions: largest error %.2f of the bound%n", dimension, worstShare);
    }
  }

  @Test
  void aVectorsOwnScaleClampsNothing() {
    float[] v = {0.6f, -0.8f, 0f};
    byte[] code = Int8Codes.encode(v, Int8Codes.scaleOf(v));
    assertThat(code).containsExactly((byte) 95, (byte) -127, (byte) 0);
    assertThat(Int8Codes.scaleOf(new float[3])).isEqualTo(1f);
  }
}
