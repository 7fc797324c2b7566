package dev.similarity.embedding;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How to load and run an {@link ImageEmbedder}. Built with {@link #builder()}; {@link
 * Builder#build()} checks every setting and names the one to fix.
 *
 * @param modelDir folder holding {@code saved_model.pb}, {@code variables/} and {@code model.json}
 * @param device where the model runs
 * @param maxImageBytes longest accepted encoded image
 * @param maxImagePixels most pixels an image header may announce (width x height)
 * @param maxBatchSize most images sent to the model in one call; longer batches are split
 * @param intraOpThreads TensorFlow threads inside one op; 0 = TensorFlow's choice (all cores)
 * @param interOpThreads TensorFlow threads running independent ops; 0 = TensorFlow's choice
 */
public record ImageEmbedderConfig(
    Path modelDir,
    DeviceSelection device,
    long maxImageBytes,
    long maxImagePixels,
    int maxBatchSize,
    int intraOpThreads,
    int interOpThreads) {

  public static final long DEFAULT_MAX_IMAGE_BYTES = 20L << 20;
  public static final long DEFAULT_MAX_IMAGE_PIXELS = 4096L * 4096L;
  public static final int DEFAULT_MAX_BATCH_SIZE = 256;

  /** Every instance is valid: {@link Builder#build()} and this constructor check the same rules. */
  public ImageEmbedderConfig {
    if (modelDir == null) {
      throw new IllegalArgumentException("modelDir is required: the folder with saved_model.pb and "
          + EmbeddingModelDescriptor.FILE_NAME);
    }
    if (!Files.isDirectory(modelDir)) {
      throw new IllegalArgumentException("modelDir " + modelDir + " is not a folder");
    }
    if (!Files.isRegularFile(modelDir.resolve("saved_model.pb"))) {
      throw new IllegalArgumentException("modelDir " + modelDir
          + " has no saved_model.pb: point it at an exported TensorFlow SavedModel");
    }
    if (!Files.isRegularFile(modelDir.resolve(EmbeddingModelDescriptor.FILE_NAME))) {
      throw new IllegalArgumentException("modelDir " + modelDir + " has no "
          + EmbeddingModelDescriptor.FILE_NAME + ": write the model descriptor next to saved_model.pb");
    }
    if (device == null) {
      throw new IllegalArgumentException("device must be CPU, GPU or AUTO");
    }
    if (maxImageBytes < 1) {
      throw new IllegalArgumentException("maxImageBytes must be positive, was " + maxImageBytes);
    }
    if (maxImagePixels < 1) {
      throw new IllegalArgumentException("maxImagePixels must be positive, was " + maxImagePixels);
    }
    if (maxBatchSize < 1 || maxBatchSize > 65_536) {
      throw new IllegalArgumentException("maxBatchSize must be 1..65536, was " + maxBatchSize);
    }
    if (intraOpThreads < 0 || intraOpThreads > 1024) {
      throw new IllegalArgumentException("intraOpThreads must be 0 (TensorFlow's choice) to 1024, was "
          + intraOpThreads);
    }
    if (interOpThreads < 0 || interOpThreads > 1024) {
      throw new IllegalArgumentException("interOpThreads must be 0 (TensorFlow's choice) to 1024, was "
          + interOpThreads);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Starts a builder from this config. */
  public Builder toBuilder() {
    return new Builder().modelDir(modelDir).device(device).maxImageBytes(maxImageBytes)
        .maxImagePixels(maxImagePixels).maxBatchSize(maxBatchSize).intraOpThreads(intraOpThreads)
        .interOpThreads(interOpThreads);
  }

  /** Builder; only {@code modelDir} is required. */
  public static final class Builder {
    private Path modelDir;
    private DeviceSelection device = DeviceSelection.CPU;
    private long maxImageBytes = DEFAULT_MAX_IMAGE_BYTES;
    private long maxImagePixels = DEFAULT_MAX_IMAGE_PIXELS;
    private int maxBatchSize = DEFAULT_MAX_BATCH_SIZE;
    private int intraOpThreads;
    private int interOpThreads;

    private Builder() {}

    public Builder modelDir(Path modelDir) {
      this.modelDir = modelDir;
      return this;
    }

    public Builder device(DeviceSelection device) {
      this.device = device;
      return this;
    }

    public Builder maxImageBytes(long maxImageBytes) {
      this.maxImageBytes = maxImageBytes;
      return this;
    }

    public Builder maxImagePixels(long maxImagePixels) {
      this.maxImagePixels = maxImagePixels;
      return this;
    }

    public Builder maxBatchSize(int maxBatchSize) {
      this.maxBatchSize = maxBatchSize;
      return this;
    }

    public Builder intraOpThreads(int intraOpThreads) {
      this.intraOpThreads = intraOpThreads;
      return this;
    }

    public Builder interOpThreads(int interOpThreads) {
      this.interOpThreads = interOpThreads;
      return this;
    }

    /**
     * Checks the settings.
     *
     * @throws IllegalArgumentException naming the setting to fix
     */
    public ImageEmbedderConfig build() {
      return new ImageEmbedderConfig(modelDir, device, maxImageBytes, maxImagePixels, maxBatchSize,
          intraOpThreads, interOpThreads);
    }
  }
}
