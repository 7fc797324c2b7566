package dev.similarity.embedding.training;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.ResizePolicy;
import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.embedding.internal.Folders;
import dev.similarity.embedding.internal.PixelNormaliser;
import dev.similarity.embedding.internal.TensorFlowNatives;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.TensorFlow;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.train.ApplyAdam;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Trains the embedding network on Fashion-MNIST's training split in TensorFlow graph mode through
 * the TF Java API that DJL bundles, then exports a SavedModel plus {@code model.json}.
 *
 * <p>The graph holds the network, the metric loss, the gradients from {@link Graph#addGradients}
 * and one {@code ApplyAdam} per parameter; Java feeds class-balanced batches, the learning rate
 * (linear warm-up, then cosine decay) and Adam's bias-correction powers. The exported model is a
 * separate serving graph (no dropout, no optimizer state) restored from the training checkpoint
 * by variable name.
 */
public final class Trainer {

  /** Signature input key of exported models. */
  public static final String INPUT_KEY = "image";
  /** Signature output key of exported models. */
  public static final String OUTPUT_KEY = "embedding";

  static final float BETA1 = 0.9f;
  static final float BETA2 = 0.999f;
  static final float ADAM_EPSILON = 1e-7f;
  private static final int MAX_SHIFT = 2;

  private final TrainingConfig config;
  private final Consumer<String> progress;

  public Trainer(TrainingConfig config, Consumer<String> progress) {
    this.config = config;
    this.progress = progress;
  }

  /** What a finished run reports. */
  public record Summary(Path modelDir, int epochs, int steps, double seconds, double imagesPerSecond,
      float firstEpochLoss, float lastEpochLoss, List<Float> epochLosses) {}

  /** Trains on {@code data} (the training split) and exports to the configured folder. */
  public Summary train(FashionMnist data) {
    TensorFlowNatives.install();
    int height = FashionMnist.ROWS;
    int width = FashionMnist.COLUMNS;
    EmbeddingNetwork network = new EmbeddingNetwork(config.network(), height, width, 1);
    int[] labels = new int[data.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = data.label(i);
    }
    ClassBalancedBatches batches = new ClassBalancedBatches(labels, FashionMnist.CLASSES, config.perClass());
    int batchSize = batches.batchSize();
    int stepsPerEpoch = config.maxStepsPerEpoch() > 0
        ? Math.min(config.maxStepsPerEpoch(), batches.batchesPerEpoch())
        : batches.batchesPerEpoch();
    int totalSteps = stepsPerEpoch * config.epochs();
    PixelNormaliser normaliser = new PixelNormaliser(config.normalisation());

    progress.accept(String.format(Locale.ROOT,
        "training %s on %d images: network %s, loss %s, %d epochs x %d steps of %d (%d per class), "
            + "lr %.2g, seed %d, augment %s",
        config.modelId(), data.size(), config.network(), config.loss(), config.epochs(), stepsPerEpoch,
        batchSize, config.perClass(), config.learningRate(), config.seed(), config.augment()));

    Path checkpointDir;
    try {
      checkpointDir = Files.createTempDirectory("embedding-training");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String loadAtStart = Folders.loadAverage();
    long start = System.nanoTime();
    List<Float> epochLosses = new ArrayList<>();
    try (Graph graph = new Graph()) {
      TrainingGraph g = buildTrainingGraph(graph, network, batchSize);
      try (Session session = new Session(graph, sessionConfig())) {
        session.initialize();
        SplittableRandom sampling = new SplittableRandom(config.seed() ^ 0x5DEECE66DL);
        float[] batchPixels = new float[batchSize * height * width];
        int[] batchLabelValues = new int[batchSize];
        byte[] scratch = new byte[FashionMnist.PIXELS];
        int step = 0;
        for (int epoch = 1; epoch <= config.epochs(); epoch++) {
          long epochStart = System.nanoTime();
          double lossSum = 0;
          int[][] epochBatches = Arrays.copyOf(batches.epoch(sampling), stepsPerEpoch);
          for (int[] batch : epochBatches) {
            fillBatch(data, batch, normaliser, sampling, scratch, batchPixels, batchLabelValues);
            step++;
            lossSum += runStep(session, g, batchPixels, batchLabelValues, step, stepsPerEpoch, totalSteps);
          }
          float epochLoss = (float) (lossSum / epochBatches.length);
          epochLosses.add(epochLoss);
          double epochSeconds = (System.nanoTime() - epochStart) / 1e9;
          double elapsed = (System.nanoTime() - start) / 1e9;
          double remaining = elapsed / epoch * (config.epochs() - epoch);
          progress.accept(String.format(Locale.ROOT,
              "epoch %2d/%d  loss %.4f  %6.0f images/s  lr %.2e  %5.1f s  (elapsed %s, about %s left)",
              epoch, config.epochs(), epochLoss, epochBatches.length * batchSize / epochSeconds,
              learningRate(step, stepsPerEpoch, totalSteps), epochSeconds, clock(elapsed), clock(remaining)));
        }
        session.save(checkpointDir.resolve("variables").toString());
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      Path modelDir = export(network, checkpointDir.resolve("variables").toString());
      writeTrainingRecord(modelDir, seconds, totalSteps * (double) batchSize / seconds, epochLosses, loadAtStart);
      progress.accept(String.format(Locale.ROOT, "trained in %s (%.0f images/s), exported to %s",
          clock(seconds), (double) totalSteps * batchSize / seconds, modelDir));
      return new Summary(modelDir, config.epochs(), totalSteps, seconds, totalSteps * (double) batchSize / seconds,
          epochLosses.getFirst(), epochLosses.getLast(), List.copyOf(epochLosses));
    } finally {
      deleteQuietly(checkpointDir);
    }
  }

  /** The ops a training step feeds and runs. */
  private record TrainingGraph(Placeholder<TFloat32> images, Placeholder<TInt32> labels,
      Placeholder<TFloat32> learningRate, Placeholder<TFloat32> beta1Power, Placeholder<TFloat32> beta2Power,
      Operand<TFloat32> loss, Op trainStep) {}

  // Network -> loss -> gradients -> one ApplyAdam per parameter, grouped under "train_step".
  private TrainingGraph buildTrainingGraph(Graph graph, EmbeddingNetwork network, int batchSize) {
    Ops tf = Ops.create(graph);
    Placeholder<TFloat32> images = tf.withName("images").placeholder(TFloat32.class,
        Placeholder.shape(Shape.of(batchSize, FashionMnist.ROWS, FashionMnist.COLUMNS, 1)));
    Placeholder<TInt32> labels = tf.withName("labels").placeholder(TInt32.class,
        Placeholder.shape(Shape.of(batchSize)));
    Placeholder<TFloat32> learningRate = scalarPlaceholder(tf, "learning_rate");
    Placeholder<TFloat32> beta1Power = scalarPlaceholder(tf, "beta1_power");
    Placeholder<TFloat32> beta2Power = scalarPlaceholder(tf, "beta2_power");

    SplittableRandom initRandom = new SplittableRandom(config.seed());
    List<EmbeddingNetwork.Parameter> specs = network.parameters();
    Map<String, Variable<TFloat32>> parameters = new LinkedHashMap<>();
    for (EmbeddingNetwork.Parameter p : specs) {
      float[] init = p.initialValues(initRandom, p.name().equals(network.embeddingKernelName()));
      parameters.put(p.name(), variable(tf, p.name(), Shape.of(p.shape()), init));
    }
    Operand<TFloat32> embeddings = network.forward(tf, images, parameters, config.seed());
    Operand<TFloat32> loss = config.loss().build(tf, embeddings, labels, batchSize);

    Output<?>[] variableOutputs = parameters.values().stream().map(Variable::asOutput).toArray(Output[]::new);
    Output<?>[] gradients = graph.addGradients(loss.asOutput(), variableOutputs);
    List<Op> updates = new ArrayList<>();
    Ops adam = tf.withSubScope("adam");
    for (int i = 0; i < specs.size(); i++) {
      EmbeddingNetwork.Parameter p = specs.get(i);
      Variable<TFloat32> m = variable(tf, p.name() + "_adam_m", Shape.of(p.shape()), new float[p.size()]);
      Variable<TFloat32> v = variable(tf, p.name() + "_adam_v", Shape.of(p.shape()), new float[p.size()]);
      @SuppressWarnings("unchecked")
      Operand<TFloat32> gradient = (Operand<TFloat32>) gradients[i];
      updates.add(adam.train.applyAdam(parameters.get(p.name()), m, v, beta1Power, beta2Power, learningRate,
          adam.constant(BETA1), adam.constant(BETA2), adam.constant(ADAM_EPSILON), gradient,
          ApplyAdam.useLocking(false)));
    }
    Op trainStep = tf.withControlDependencies(updates).withName("train_step").noOp();
    return new TrainingGraph(images, labels, learningRate, beta1Power, beta2Power, loss, trainStep);
  }

  private static Placeholder<TFloat32> scalarPlaceholder(Ops tf, String name) {
    return tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
  }

  // One optimiser step; Adam's bias corrections beta^t are fed, not kept in the graph.
  private float runStep(Session session, TrainingGraph g, float[] pixels, int[] labels, int step,
      int stepsPerEpoch, int totalSteps) {
    int batchSize = labels.length;
    try (TFloat32 x = TFloat32.tensorOf(Shape.of(batchSize, FashionMnist.ROWS, FashionMnist.COLUMNS, 1),
            DataBuffers.of(pixels));
        TInt32 y = TInt32.tensorOf(Shape.of(batchSize), DataBuffers.of(labels));
        TFloat32 lr = TFloat32.scalarOf(learningRate(step, stepsPerEpoch, totalSteps));
        TFloat32 b1 = TFloat32.scalarOf((float) Math.pow(BETA1, step));
        TFloat32 b2 = TFloat32.scalarOf((float) Math.pow(BETA2, step));
        Result result = session.runner().feed(g.images(), x).feed(g.labels(), y)
            .feed(g.learningRate(), lr).feed(g.beta1Power(), b1).feed(g.beta2Power(), b2)
            .addTarget(g.trainStep()).fetch(g.loss()).run()) {
      float value = ((TFloat32) result.get(0)).getFloat();
      if (!Float.isFinite(value)) {
        throw new IllegalStateException("loss became " + value + " at step " + step
            + "; lower the learning rate (--learning-rate)");
      }
      return value;
    }
  }

  static Variable<TFloat32> variable(Ops tf, String name, Shape shape, float[] init) {
    return GraphOps.scoped(tf, name).variable(tf.constant(shape, DataBuffers.of(init)));
  }

  private ConfigProto sessionConfig() {
    ConfigProto.Builder builder = ConfigProto.newBuilder();
    if (config.threads() > 0) {
      builder.setIntraOpParallelismThreads(config.threads()).setInterOpParallelismThreads(1);
    }
    return builder.build();
  }

  // Linear warm-up to the peak, then cosine decay to finalLearningRateFraction of it.
  float learningRate(int step, int stepsPerEpoch, int totalSteps) {
    float peak = config.learningRate();
    int warmup = Math.round(config.warmupEpochs() * stepsPerEpoch);
    if (step <= warmup) {
      return peak * step / Math.max(1, warmup);
    }
    double progressFraction = (double) (step - warmup) / Math.max(1, totalSteps - warmup);
    double floor = config.finalLearningRateFraction();
    return (float) (peak * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progressFraction))));
  }

  private void fillBatch(FashionMnist data, int[] batch, PixelNormaliser normaliser,
      SplittableRandom random, byte[] scratch, float[] pixels, int[] labelValues) {
    int rows = FashionMnist.ROWS;
    int cols = FashionMnist.COLUMNS;
    float background = normaliser.apply(0, 0);
    for (int k = 0; k < batch.length; k++) {
      int index = batch[k];
      labelValues[k] = data.label(index);
      data.copyPixels(index, scratch, 0);
      boolean flip = config.augment() && random.nextBoolean();
      int dy = config.augment() ? random.nextInt(2 * MAX_SHIFT + 1) - MAX_SHIFT : 0;
      int dx = config.augment() ? random.nextInt(2 * MAX_SHIFT + 1) - MAX_SHIFT : 0;
      int base = k * rows * cols;
      for (int r = 0; r < rows; r++) {
        int sr = r - dy;
        for (int c = 0; c < cols; c++) {
          int sc = (flip ? cols - 1 - c : c) - dx;
          pixels[base + r * cols + c] = sr < 0 || sr >= rows || sc < 0 || sc >= cols
              ? background
              : normaliser.apply(scratch[sr * cols + sc] & 0xFF, 0);
        }
      }
    }
  }

  private Path export(EmbeddingNetwork network, String checkpointPrefix) {
    Path modelDir = config.outputDir();
    try {
      Folders.deleteRecursively(modelDir.resolve("variables"));
      Files.deleteIfExists(modelDir.resolve("saved_model.pb"));
      Files.createDirectories(modelDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + modelDir, e);
    }
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> input = tf.withName(INPUT_KEY).placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, FashionMnist.ROWS, FashionMnist.COLUMNS, 1)));
      Map<String, Variable<TFloat32>> parameters = new LinkedHashMap<>();
      for (EmbeddingNetwork.Parameter p : network.parameters()) {
        parameters.put(p.name(), GraphOps.scoped(tf, p.name()).variable(Shape.of(p.shape()), TFloat32.class));
      }
      Operand<TFloat32> embedding = tf.withName(OUTPUT_KEY).identity(
          network.forward(tf, input, parameters, null));
      try (Session session = new Session(graph)) {
        session.restore(checkpointPrefix);
        Signature signature = Signature.builder().key(Signature.DEFAULT_KEY)
            .input(INPUT_KEY, input).output(OUTPUT_KEY, embedding).build();
        SavedModelBundle.exporter(modelDir.toString())
            .withFunction(SessionFunction.create(signature, session))
            .export();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot export the SavedModel to " + modelDir, e);
    }
    descriptor(network).write(modelDir);
    return modelDir;
  }

  /** The descriptor of the exported model. */
  EmbeddingModelDescriptor descriptor(EmbeddingNetwork network) {
    return new EmbeddingModelDescriptor(config.modelId(), config.version(), FashionMnist.ROWS,
        FashionMnist.COLUMNS, 1, "RGB", config.normalisation(), ResizePolicy.LETTERBOX, 0,
        Signature.DEFAULT_KEY, INPUT_KEY, OUTPUT_KEY, network.spec().embeddingDimension());
  }

  // training.json next to the model: how it was made, so a retrain can be compared with it.
  private void writeTrainingRecord(Path modelDir, double seconds, double imagesPerSecond, List<Float> losses,
      String loadAtStart) {
    Map<String, Object> record = new LinkedHashMap<>();
    record.put("model_id", config.modelId() + "@" + config.version());
    record.put("command", "scripts/train-model --out " + modelDir + " --epochs " + config.epochs()
        + " --per-class " + config.perClass() + " --learning-rate " + config.learningRate() + " --network "
        + config.network() + " --seed " + config.seed() + (config.augment() ? " --augment" : ""));
    record.put("network", config.network().text());
    record.put("loss", config.loss().toString());
    record.put("optimizer", String.format(Locale.ROOT, "Adam(beta1=%s, beta2=%s, epsilon=%s), peak lr %s, "
        + "linear warm-up %s epochs, cosine decay to %s of peak", BETA1, BETA2, ADAM_EPSILON,
        config.learningRate(), config.warmupEpochs(), config.finalLearningRateFraction()));
    record.put("epochs", config.epochs());
    record.put("batch", FashionMnist.CLASSES + " classes x " + config.perClass() + " images");
    record.put("augmentation", config.augment() ? "horizontal flip p=0.5, shift up to " + MAX_SHIFT + " px" : "none");
    record.put("seed", config.seed());
    record.put("epoch_losses", losses);
    record.put("wall_seconds", Math.round(seconds));
    record.put("images_per_second", Math.round(imagesPerSecond));
    record.put("cpu_cores", Runtime.getRuntime().availableProcessors());
    record.put("load_average_at_start", loadAtStart);
    record.put("load_average_at_end", Folders.loadAverage());
    record.put("tensorflow_version", TensorFlow.version());
    record.put("finished_at", Instant.now().toString());
    try {
      Files.writeString(modelDir.resolve("training.json"),
          new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(record) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + modelDir.resolve("training.json"), e);
    }
  }

  static String clock(double seconds) {
    long s = Math.round(seconds);
    return s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
  }

  private static void deleteQuietly(Path dir) {
    try {
      Folders.deleteRecursively(dir);
    } catch (IOException ignored) {
      // a leftover temp folder is harmless
    }
  }
}
