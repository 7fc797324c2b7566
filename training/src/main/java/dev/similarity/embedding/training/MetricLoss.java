package dev.similarity.embedding.training;

import java.util.Locale;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.ReduceMax;
import org.tensorflow.op.core.ReduceMin;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Metric-learning losses over one batch of L2-normalised embeddings, built as graph ops whose
 * gradients TensorFlow's C++ gradient registry knows (MatMul, Exp, Log1p, Max, Min, Sqrt, Relu).
 *
 * <p>Both compare every pair in the batch, so batches should hold several images of every class
 * (see {@link ClassBalancedBatches}).
 */
public sealed interface MetricLoss {

  /** Adds the scalar loss for {@code embeddings} [B, d] with integer {@code labels} [B]. */
  Operand<TFloat32> build(Ops tf, Operand<TFloat32> embeddings, Operand<TInt32> labels, int batchSize);

  /**
   * Multi-similarity loss (Wang et al., CVPR 2019), as in TF Similarity: pairs are mined against
   * the hardest pair of the other kind (margin {@code epsilon}), then positives are pulled above
   * and negatives pushed below the similarity {@code lambda}, with soft weights {@code alpha} and
   * {@code beta}.
   */
  record MultiSimilarity(float alpha, float beta, float lambda, float epsilon) implements MetricLoss {
    /** TF Similarity's defaults. */
    public static MultiSimilarity defaults() {
      return new MultiSimilarity(2f, 40f, 0.5f, 0.1f);
    }

    @Override
    public Operand<TFloat32> build(Ops tf, Operand<TFloat32> embeddings, Operand<TInt32> labels,
        int batchSize) {
      Ops loss = tf.withSubScope("multi_similarity_loss");
      Masks masks = Masks.of(loss, labels, batchSize);
      Operand<TFloat32> similarity = loss.linalg.matMul(embeddings, embeddings,
          org.tensorflow.op.linalg.MatMul.transposeB(true));
      // Mining decides which pairs count; it must not be differentiated through.
      Operand<TFloat32> fixed = loss.stopGradient(similarity);
      Operand<TFloat32> big = loss.constant(4f);
      Operand<TFloat32> hardestPositive = loss.reduceMin(
          loss.math.add(fixed, loss.math.mul(loss.math.sub(loss.constant(1f), masks.positive), big)),
          loss.constant(1), ReduceMin.keepDims(true));
      Operand<TFloat32> hardestNegative = loss.reduceMax(
          loss.math.sub(fixed, loss.math.mul(loss.math.sub(loss.constant(1f), masks.negative), big)),
          loss.constant(1), ReduceMax.keepDims(true));
      Operand<TFloat32> eps = loss.constant(epsilon);
      Operand<TFloat32> minedNegatives = loss.math.mul(masks.negative, loss.dtypes.cast(
          loss.math.greater(loss.math.add(fixed, eps), hardestPositive), TFloat32.class));
      Operand<TFloat32> minedPositives = loss.math.mul(masks.positive, loss.dtypes.cast(
          loss.math.less(loss.math.sub(fixed, eps), hardestNegative), TFloat32.class));
      minedNegatives = loss.stopGradient(minedNegatives);
      minedPositives = loss.stopGradient(minedPositives);

      Operand<TFloat32> shifted = loss.math.sub(similarity, loss.constant(lambda));
      Operand<TFloat32> positiveSum = loss.reduceSum(
          loss.math.mul(loss.math.exp(loss.math.mul(shifted, loss.constant(-alpha))), minedPositives),
          loss.constant(1));
      Operand<TFloat32> negativeSum = loss.reduceSum(
          loss.math.mul(loss.math.exp(loss.math.mul(shifted, loss.constant(beta))), minedNegatives),
          loss.constant(1));
      Operand<TFloat32> perAnchor = loss.math.add(
          loss.math.mul(loss.math.log1p(positiveSum), loss.constant(1f / alpha)),
          loss.math.mul(loss.math.log1p(negativeSum), loss.constant(1f / beta)));
      return loss.math.mean(perAnchor, loss.constant(0));
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "multi-similarity(alpha=%s, beta=%s, lambda=%s, epsilon=%s)",
          alpha, beta, lambda, epsilon);
    }
  }

  /**
   * Batch-hard triplet loss (Hermans et al. 2017, the FaceNet margin): for each anchor, the
   * farthest positive should be closer than the nearest negative by {@code margin} (Euclidean).
   */
  record BatchHardTriplet(float margin) implements MetricLoss {
    @Override
    public Operand<TFloat32> build(Ops tf, Operand<TFloat32> embeddings, Operand<TInt32> labels,
        int batchSize) {
      Ops loss = tf.withSubScope("batch_hard_triplet_loss");
      Masks masks = Masks.of(loss, labels, batchSize);
      Operand<TFloat32> similarity = loss.linalg.matMul(embeddings, embeddings,
          org.tensorflow.op.linalg.MatMul.transposeB(true));
      // Unit vectors: |a - b|^2 = 2 - 2 a.b; the epsilon keeps Sqrt's gradient finite at 0.
      Operand<TFloat32> squared = loss.math.maximum(
          loss.math.sub(loss.constant(2f), loss.math.mul(similarity, loss.constant(2f))),
          loss.constant(0f));
      Operand<TFloat32> distance = loss.math.sqrt(loss.math.add(squared, loss.constant(1e-9f)));
      Operand<TFloat32> hardestPositive = loss.reduceMax(loss.math.mul(distance, masks.positive),
          loss.constant(1));
      Operand<TFloat32> hardestNegative = loss.reduceMin(loss.math.add(distance,
          loss.math.mul(loss.math.sub(loss.constant(1f), masks.negative), loss.constant(4f))),
          loss.constant(1));
      Operand<TFloat32> violation = loss.nn.relu(loss.math.add(
          loss.math.sub(hardestPositive, hardestNegative), loss.constant(margin)));
      return loss.math.mean(violation, loss.constant(0));
    }

    @Override
    public String toString() {
      return "batch-hard-triplet(margin=" + margin + ")";
    }
  }

  /** Parses "ms", "multi-similarity", "triplet" or "triplet:0.2" (margin). */
  static MetricLoss parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("ms") || t.equals("multi-similarity")) {
      return MultiSimilarity.defaults();
    }
    if (t.startsWith("triplet")) {
      float margin = t.contains(":") ? Float.parseFloat(t.substring(t.indexOf(':') + 1)) : 0.2f;
      return new BatchHardTriplet(margin);
    }
    throw new IllegalArgumentException("unknown loss '" + text + "': use multi-similarity or triplet[:margin]");
  }

  /** Pair masks of a batch: same class but not self, and different class. Constants per step. */
  record Masks(Operand<TFloat32> positive, Operand<TFloat32> negative) {
    static Masks of(Ops tf, Operand<TInt32> labels, int batchSize) {
      Operand<TInt32> column = tf.reshape(labels, tf.constant(new int[] {-1, 1}));
      Operand<TInt32> row = tf.reshape(labels, tf.constant(new int[] {1, -1}));
      Operand<TFloat32> same = tf.dtypes.cast(tf.math.equal(column, row), TFloat32.class);
      float[][] identity = new float[batchSize][batchSize];
      for (int i = 0; i < batchSize; i++) {
        identity[i][i] = 1f;
      }
      Operand<TFloat32> positive = tf.stopGradient(tf.math.sub(same, tf.constant(identity)));
      Operand<TFloat32> negative = tf.stopGradient(tf.math.sub(tf.constant(1f), same));
      return new Masks(positive, negative);
    }
  }
}
