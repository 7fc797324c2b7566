package dev.similarity.embedding.training;

import dev.similarity.embedding.EmbeddingModelDescriptor.Normalisation;
import java.nio.file.Path;

/**
 * Everything that decides a training run. Two runs with equal configs (same seed, same thread
 * count) produce models whose retrieval metrics agree within noise.
 */
public record TrainingConfig(
    Path outputDir,
    String modelId,
    String version,
    NetworkSpec network,
    MetricLoss loss,
    int epochs,
    int perClass,
    int maxStepsPerEpoch,
    float learningRate,
    float finalLearningRateFraction,
    float warmupEpochs,
    boolean augment,
    long seed,
    int threads,
    Normalisation normalisation) {

  /** The network used for the committed model (see docs/embedding.md for how it was chosen). */
  public static final String DEFAULT_NETWORK =
      "conv32-pool-drop0.1-conv64-pool-drop0.1-dense256-embed128";

  /** Fashion-MNIST pixel statistics of the training split (mean and std of pixel / 255). */
  public static final Normalisation FASHION_MNIST_NORMALISATION =
      new Normalisation(1f / 255f, new float[] {0.2860f}, new float[] {0.3530f});

  public static Builder builder() {
    return new Builder();
  }

  /** Builder with the defaults of the committed model; {@link #build()} validates. */
  public static final class Builder {
    private Path outputDir;
    private String modelId = "fashion-mnist-similarity";
    private String version = "1";
    private String network = DEFAULT_NETWORK;
    private String loss = "multi-similarity";
    private int epochs = 8;
    private int perClass = 16;
    private int maxStepsPerEpoch = 0;
    private float learningRate = 1e-3f;
    private float finalLearningRateFraction = 0.02f;
    private float warmupEpochs = 0.5f;
    private boolean augment = false;
    private long seed = 42L;
    private int threads = 0;
    private Normalisation normalisation = FASHION_MNIST_NORMALISATION;

    private Builder() {}

    /** Folder the SavedModel, model.json and training log are written to (required). */
    public Builder outputDir(Path outputDir) {
      this.outputDir = outputDir;
      return this;
    }

    public Builder modelId(String modelId) {
      this.modelId = modelId;
      return this;
    }

    public Builder version(String version) {
      this.version = version;
      return this;
    }

    /** Layer stack in {@link NetworkSpec} form. */
    public Builder network(String network) {
      this.network = network;
      return this;
    }

    /** {@code multi-similarity} or {@code triplet[:margin]}. */
    public Builder loss(String loss) {
      this.loss = loss;
      return this;
    }

    public Builder epochs(int epochs) {
      this.epochs = epochs;
      return this;
    }

    /** Images of each class in a batch (batch size = 10 x perClass). */
    public Builder perClass(int perClass) {
      this.perClass = perClass;
      return this;
    }

    /** Caps the steps of an epoch (0 = every image once); for smoke tests and quick experiments. */
    public Builder maxStepsPerEpoch(int maxStepsPerEpoch) {
      this.maxStepsPerEpoch = maxStepsPerEpoch;
      return this;
    }

    /** Peak Adam learning rate (reached after warm-up, then cosine decay). */
    public Builder learningRate(float learningRate) {
      this.learningRate = learningRate;
      return this;
    }

    /** Learning rate at the end of the cosine decay, as a fraction of the peak. */
    public Builder finalLearningRateFraction(float fraction) {
      this.finalLearningRateFraction = fraction;
      return this;
    }

    /** Epochs of linear learning-rate warm-up. */
    public Builder warmupEpochs(float warmupEpochs) {
      this.warmupEpochs = warmupEpochs;
      return this;
    }

    /**
     * Random horizontal flips and shifts of up to 2 pixels. Off by default: at this training budget
     * it cost about one point of k-NN accuracy (see docs/embedding.md).
     */
    public Builder augment(boolean augment) {
      this.augment = augment;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** TensorFlow intra-op threads; 0 = one per core. */
    public Builder threads(int threads) {
      this.threads = threads;
      return this;
    }

    public Builder normalisation(Normalisation normalisation) {
      this.normalisation = normalisation;
      return this;
    }

    private Normalisation requireNormalisation() {
      if (normalisation == null || normalisation.mean().length != 1) {
        throw new IllegalArgumentException("normalisation must have one mean and one std (grayscale input)");
      }
      return normalisation;
    }

    public TrainingConfig build() {
      if (outputDir == null) {
        throw new IllegalArgumentException("outputDir is required: where to write the SavedModel (--out)");
      }
      if (epochs < 1) {
        throw new IllegalArgumentException("epochs must be at least 1, was " + epochs);
      }
      if (perClass < 2) {
        throw new IllegalArgumentException("perClass must be at least 2 (positive pairs), was " + perClass);
      }
      if (maxStepsPerEpoch < 0) {
        throw new IllegalArgumentException("maxStepsPerEpoch must be 0 (no cap) or positive, was "
            + maxStepsPerEpoch);
      }
      if (!(learningRate > 0 && learningRate < 1)) {
        throw new IllegalArgumentException("learningRate must be in (0, 1), was " + learningRate);
      }
      if (!(finalLearningRateFraction >= 0 && finalLearningRateFraction <= 1)) {
        throw new IllegalArgumentException("finalLearningRateFraction must be in [0, 1], was "
            + finalLearningRateFraction);
      }
      if (!(warmupEpochs >= 0 && warmupEpochs < epochs)) {
        throw new IllegalArgumentException("warmupEpochs must be in [0, epochs), was " + warmupEpochs);
      }
      if (threads < 0) {
        throw new IllegalArgumentException("threads must be 0 (all cores) or positive, was " + threads);
      }
      if (modelId == null || modelId.isBlank() || version == null || version.isBlank()) {
        throw new IllegalArgumentException("modelId and version must be set");
      }
      return new TrainingConfig(outputDir, modelId, version, NetworkSpec.parse(network),
          MetricLoss.parse(loss), epochs, perClass, maxStepsPerEpoch, learningRate, finalLearningRateFraction,
          warmupEpochs, augment, seed, threads, requireNormalisation());
    }
  }
}
