package dev.similarity.embedding.internal;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SymbolBlock;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.TranslateException;
import ai.djl.util.PairList;
import dev.similarity.embedding.DeviceSelection;
import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.ImageEmbedderConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.proto.ConfigProto;

/**
 * A SavedModel served through DJL: {@code Criteria -> ZooModel -> Predictor} with the {@link
 * EmbeddingTranslator}. Not thread-safe (one predictor); {@code ImageEmbedder} serialises calls.
 */
public final class DjlEmbeddingModel implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DjlEmbeddingModel.class);
  private static final String ENGINE = "TensorFlow";

  private final EmbeddingModelDescriptor descriptor;
  private final EmbeddingTranslator translator;
  private final ZooModel<PreparedBatch, float[][]> model;
  private final Predictor<PreparedBatch, float[][]> predictor;
  private final DeviceSelection device;

  private DjlEmbeddingModel(EmbeddingModelDescriptor descriptor, EmbeddingTranslator translator,
      ZooModel<PreparedBatch, float[][]> model, DeviceSelection device) {
    this.descriptor = descriptor;
    this.translator = translator;
    this.model = model;
    this.predictor = model.newPredictor();
    this.device = device;
  }

  /**
   * Loads the model of {@code config} and checks that its signature matches the descriptor.
   *
   * @throws IllegalArgumentException when model.json and the SavedModel disagree, or the device
   *     cannot be used
   */
  public static DjlEmbeddingModel load(ImageEmbedderConfig config) {
    TensorFlowNatives.Installation natives = TensorFlowNatives.install();
    Path modelDir = config.modelDir();
    EmbeddingModelDescriptor descriptor = EmbeddingModelDescriptor.read(modelDir);
    Engine engine = Engine.getEngine(ENGINE);
    DeviceSelection resolved = resolveDevice(config.device(), engine, natives);
    EmbeddingTranslator translator = new EmbeddingTranslator(descriptor, config.maxImageBytes(),
        config.maxImagePixels());
    Criteria<PreparedBatch, float[][]> criteria = Criteria.builder()
        .setTypes(PreparedBatch.class, float[][].class)
        .optEngine(ENGINE)
        .optModelPath(modelDir)
        .optDevice(resolved == DeviceSelection.GPU ? Device.gpu() : Device.cpu())
        .optTranslator(translator)
        .optOption("Tags", "serve")
        .optOption("SignatureDefKey", descriptor.signature())
        .optOption("ConfigProto", Base64.getEncoder().encodeToString(
            sessionConfig(config, resolved).toByteArray()))
        .build();
    ZooModel<PreparedBatch, float[][]> model;
    try {
      model = criteria.loadModel();
    } catch (ModelNotFoundException | MalformedModelException | IOException e) {
      throw new IllegalArgumentException("cannot load the SavedModel in " + modelDir + ": " + e.getMessage(), e);
    }
    try {
      checkSignature(model, descriptor, modelDir);
      DjlEmbeddingModel loaded = new DjlEmbeddingModel(descriptor, translator, model, resolved);
      loaded.checkOutputDimension();
      LOG.info("loaded {} from {} on {} (TensorFlow {})", descriptor.qualifiedId(), modelDir, resolved,
          engine.getVersion());
      return loaded;
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  private static DeviceSelection resolveDevice(DeviceSelection wanted, Engine engine,
      TensorFlowNatives.Installation natives) {
    boolean gpuVisible = natives.gpuBuild() && engine.hasCapability(StandardCapabilities.CUDA);
    return switch (wanted) {
      case CPU -> DeviceSelection.CPU;
      case AUTO -> gpuVisible ? DeviceSelection.GPU : DeviceSelection.CPU;
      case GPU -> {
        if (!gpuVisible) {
          throw new IllegalArgumentException("device GPU was requested but TensorFlow sees no GPU ("
              + "natives: " + natives.classifier() + "); build with 'mvn -Pgpu' for the "
              + "linux-x86_64-gpu natives, install CUDA 12.3 and cuDNN 8.9, or use device CPU/AUTO");
        }
        yield DeviceSelection.GPU;
      }
    };
  }

  private static ConfigProto sessionConfig(ImageEmbedderConfig config, DeviceSelection device) {
    ConfigProto.Builder builder = ConfigProto.newBuilder();
    if (config.intraOpThreads() > 0) {
      builder.setIntraOpParallelismThreads(config.intraOpThreads());
    }
    if (config.interOpThreads() > 0) {
      builder.setInterOpParallelismThreads(config.interOpThreads());
    }
    if (device == DeviceSelection.CPU) {
      // Hides any GPU from this session, so CPU means CPU on a GPU build too.
      builder.putDeviceCount("GPU", 0);
    } else {
      builder.getGpuOptionsBuilder().setAllowGrowth(true);
    }
    return builder.build();
  }

  private static void checkSignature(ZooModel<?, ?> model, EmbeddingModelDescriptor descriptor, Path modelDir) {
    if (!(model.getBlock() instanceof SymbolBlock block)) {
      throw new IllegalStateException("DJL returned a " + model.getBlock().getClass().getName()
          + " for " + modelDir + ", not a TensorFlow SymbolBlock");
    }
    PairList<String, Shape> inputs = block.describeInput();
    PairList<String, Shape> outputs = block.describeOutput();
    if (inputs.size() != 1 || !inputs.contains(descriptor.inputTensor())) {
      throw new IllegalArgumentException("model.json in " + modelDir + " names input '"
          + descriptor.inputTensor() + "' but signature '" + descriptor.signature() + "' has inputs "
          + inputs.keys() + "; set inputTensor to the single image input");
    }
    if (!outputs.contains(descriptor.outputTensor())) {
      throw new IllegalArgumentException("model.json in " + modelDir + " names output '"
          + descriptor.outputTensor() + "' but signature '" + descriptor.signature() + "' has outputs "
          + outputs.keys() + "; set outputTensor to the embedding output");
    }
  }

  // One all-padding image through the model: fails at load, not at the first product, when the
  // declared input size or embedding dimension is wrong.
  private void checkOutputDimension() {
    PreparedBatch probe = translator.newBatch(1).withCount(1);
    try {
      predict(probe);
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException("model.json does not match the SavedModel: " + e.getMessage(), e);
    }
  }

  /** Runs the model on the first {@code batch.count()} prepared images; rows are unit length. */
  public float[][] predict(PreparedBatch batch) {
    try {
      return predictor.predict(batch);
    } catch (TranslateException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalStateException("model " + descriptor.qualifiedId() + " failed on a batch of "
          + batch.count() + ": " + cause.getMessage(), e);
    }
  }

  public EmbeddingTranslator translator() {
    return translator;
  }

  public EmbeddingModelDescriptor descriptor() {
    return descriptor;
  }

  public DeviceSelection device() {
    return device;
  }

  @Override
  public void close() {
    predictor.close();
    model.close();
  }
}
