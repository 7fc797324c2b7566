package dev.similarity.embedding.internal;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import java.nio.file.Path;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * The same SavedModel called straight through TF Java's session API, without DJL: the baseline
 * the evaluation compares the DJL path against. Not thread-safe.
 */
public final class DirectSessionModel implements AutoCloseable {

  private final EmbeddingModelDescriptor descriptor;
  private final SavedModelBundle bundle;
  private final SessionFunction function;

  private DirectSessionModel(EmbeddingModelDescriptor descriptor, SavedModelBundle bundle) {
    this.descriptor = descriptor;
    this.bundle = bundle;
    this.function = bundle.function(descriptor.signature());
  }

  /** Loads {@code modelDir} (SavedModel + model.json) with the given session config. */
  public static DirectSessionModel load(Path modelDir, ConfigProto sessionConfig) {
    TensorFlowNatives.install();
    EmbeddingModelDescriptor descriptor = EmbeddingModelDescriptor.read(modelDir);
    SavedModelBundle bundle = SavedModelBundle.loader(modelDir.toString())
        .withTags(SavedModelBundle.DEFAULT_TAG).withConfigProto(sessionConfig).load();
    return new DirectSessionModel(descriptor, bundle);
  }

  /**
   * Runs one batch.
   *
   * @param input {@code batch * H * W * C} model values, NHWC
   * @return the raw model outputs, one row per image (not re-normalised)
   */
  public float[][] run(float[] input, int batch) {
    Shape shape = Shape.of(batch, descriptor.inputHeight(), descriptor.inputWidth(), descriptor.inputChannels());
    try (TFloat32 x = TFloat32.tensorOf(shape, DataBuffers.of(input, true, false));
        Result result = function.call(Map.<String, Tensor>of(descriptor.inputTensor(), x))) {
      TFloat32 y = (TFloat32) result.get(descriptor.outputTensor())
          .orElseThrow(() -> new IllegalStateException("signature " + descriptor.signature()
              + " has no output " + descriptor.outputTensor()));
      int dim = (int) y.shape().size(1);
      float[] flat = new float[batch * dim];
      y.copyTo(DataBuffers.of(flat, false, false));
      float[][] rows = new float[batch][];
      for (int i = 0; i < batch; i++) {
        rows[i] = java.util.Arrays.copyOfRange(flat, i * dim, (i + 1) * dim);
      }
      return rows;
    }
  }

  public EmbeddingModelDescriptor descriptor() {
    return descriptor;
  }

  @Override
  public void close() {
    bundle.close();
  }
}
