package dev.similarity.embedding.training;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.internal.Folders;
import dev.similarity.embedding.internal.TensorFlowNatives;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * Transfer learning on a frozen backbone: trains a small dense metric-learning head (a
 * {@link NetworkSpec} of dense layers ending in {@code embedN}) on precomputed backbone features,
 * in TensorFlow graph mode with the same losses and optimiser as {@link Trainer}, then exports
 * backbone + head as one SavedModel that the embedder serves like any other.
 *
 * <p>Training data are feature rows labelled by the item they show (several views of each item:
 * its catalogue image and photos of it); a batch holds {@code itemsPerBatch} items with all of
 * their views, so every anchor has positives (the item's other views) and negatives.
 */
public final class HeadTrainer {

  /** Signature output key of the exported backbone + head. */
  public static final String OUTPUT_KEY = "embedding";

  /**
   * How a head is trained.
   *
   * @param network dense layers only, e.g. {@code dense512-embed128}
   * @param loss the metric loss
   * @param epochs passes over the items
   * @param itemsPerBatch items per batch (batch = items x views per item)
   * @param learningRate peak Adam learning rate; cosine decay to 5 % of it
   * @param seed initialisation, dropout and sampling seed
   * @param threads TensorFlow intra-op threads, 0 = all cores
   */
  public record Config(NetworkSpec network, MetricLoss loss, int epochs, int itemsPerBatch, float learningRate,
      long seed, int threads) {
    public Config {
      for (NetworkSpec.Layer layer : network.layers()) {
        if (layer instanceof NetworkSpec.Conv || layer instanceof NetworkSpec.Pool) {
          throw new IllegalArgumentException("a head takes feature vectors: network '" + network
              + "' may hold only denseN, dropX and embedN");
        }
      }
      if (epochs < 1 || itemsPerBatch < 2 || !(learningRate > 0)) {
        throw new IllegalArgumentException("head training needs epochs >= 1, itemsPerBatch >= 2 and a positive "
            + "learning rate, got " + epochs + ", " + itemsPerBatch + ", " + learningRate);
      }
    }

    /** A 512-unit hidden layer and a 128-d embedding, multi-similarity loss. */
    public static Config defaults() {
      return new Config(NetworkSpec.parse("dense512-drop0.1-embed128"), MetricLoss.MultiSimilarity.defaults(), 20,
          32, 1e-3f, 1L, 0);
    }

    /** Parses a loss name as {@code scripts/train-model --loss} does. */
    public static MetricLoss loss(String text) {
      return MetricLoss.parse(text);
    }
  }

  /**
   * A trained head: its layer stack, input width and every parameter's values by name.
   *
   * @param lossByEpoch the mean training loss of each epoch
   */
  public record Head(NetworkSpec network, int inputDimension, Map<String, float[]> parameters,
      List<Float> lossByEpoch) {

    public int dimension() {
      return network.embeddingDimension();
    }
  }

  private final Config config;
  private final Consumer<String> progress;

  public HeadTrainer(Config config, Consumer<String> progress) {
    this.config = config;
    this.progress = progress;
  }

  /**
   * Trains a head.
   *
   * @param features L2-normalised backbone features, one row per view, all of one length
   * @param items the item each row shows; every item must have the same number (at least 2) of views
   */
  public Head train(float[][] features, int[] items) {
    TensorFlowNatives.install();
    int inputDimension = features[0].length;
    int[][] views = viewsByItem(items);
    int perItem = views[0].length;
    int itemsPerBatch = Math.min(config.itemsPerBatch(), views.length);
    int batchSize = itemsPerBatch * perItem;
    int stepsPerEpoch = views.length / itemsPerBatch;
    int totalSteps = stepsPerEpoch * config.epochs();
    EmbeddingNetwork network = new EmbeddingNetwork(config.network(), 1, 1, inputDimension);
    progress.accept(String.format(Locale.ROOT, "training head %s on %d x %d-d features of %d items (%d views each): "
        + "%s, %d epochs x %d steps of %d", config.network(), features.length, inputDimension, views.length, perItem,
        config.loss(), config.epochs(), stepsPerEpoch, batchSize));
    long start = System.nanoTime();
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> input = tf.withName("features").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(batchSize, inputDimension)));
      Placeholder<TInt32> labels = tf.withName("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(batchSize)));
      Placeholder<TFloat32> learningRate = tf.withName("learning_rate").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));
      Placeholder<TFloat32> beta1Power = tf.withName("beta1_power").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));
      Placeholder<TFloat32> beta2Power = tf.withName("beta2_power").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));
      SplittableRandom initRandom = new SplittableRandom(config.seed());
      Map<String, Variable<TFloat32>> parameters = new LinkedHashMap<>();
      for (EmbeddingNetwork.Parameter p : network.parameters()) {
        float[] init = p.initialValues(initRandom, p.name().equals(network.embeddingKernelName()));
        parameters.put(p.name(), Trainer.variable(tf, p.name(), Shape.of(p.shape()), init));
      }
      Operand<TFloat32> embeddings = network.forward(tf, input, parameters, config.seed());
      Operand<TFloat32> loss = config.loss().build(tf, embeddings, labels, batchSize);
      Output<?>[] gradients = graph.addGradients(loss.asOutput(),
          parameters.values().stream().map(Variable::asOutput).toArray(Output[]::new));
      List<Op> updates = new ArrayList<>();
      Ops adam = tf.withSubScope("adam");
      int i = 0;
      for (EmbeddingNetwork.Parameter p : network.parameters()) {
        Variable<TFloat32> m = Trainer.variable(tf, p.name() + "_adam_m", Shape.of(p.shape()), new float[p.size()]);
        Variable<TFloat32> v = Trainer.variable(tf, p.name() + "_adam_v", Shape.of(p.shape()), new float[p.size()]);
        @SuppressWarnings("unchecked")
        Operand<TFloat32> gradient = (Operand<TFloat32>) gradients[i++];
        updates.add(adam.train.applyAdam(parameters.get(p.name()), m, v, beta1Power, beta2Power, learningRate,
            adam.constant(Trainer.BETA1), adam.constant(Trainer.BETA2), adam.constant(Trainer.ADAM_EPSILON),
            gradient, ApplyAdam.useLocking(false)));
      }
      Op trainStep = tf.withControlDependencies(updates).withName("train_step").noOp();

      ConfigProto.Builder sessionConfig = ConfigProto.newBuilder();
      if (config.threads() > 0) {
        sessionConfig.setIntraOpParallelismThreads(config.threads()).setInterOpParallelismThreads(1);
      }
      try (Session session = new Session(graph, sessionConfig.build())) {
        session.initialize();
        SplittableRandom sampling = new SplittableRandom(config.seed() ^ 0x5DEECE66DL);
        float[] batchFeatures = new float[batchSize * inputDimension];
        int[] batchLabels = new int[batchSize];
        int[] order = new int[views.length];
        for (int k = 0; k < order.length; k++) {
          order[k] = k;
        }
        List<Float> lossByEpoch = new ArrayList<>();
        int step = 0;
        for (int epoch = 1; epoch <= config.epochs(); epoch++) {
          shuffle(order, sampling);
          double sum = 0;
          for (int s = 0; s < stepsPerEpoch; s++) {
            int row = 0;
            for (int b = 0; b < itemsPerBatch; b++) {
              int item = order[s * itemsPerBatch + b];
              for (int view : views[item]) {
                System.arraycopy(features[view], 0, batchFeatures, row * inputDimension, inputDimension);
                batchLabels[row++] = item;
              }
            }
            step++;
            float lr = learningRate(step, totalSteps);
            try (TFloat32 x = TFloat32.tensorOf(Shape.of(batchSize, inputDimension), DataBuffers.of(batchFeatures));
                TInt32 y = TInt32.tensorOf(Shape.of(batchSize), DataBuffers.of(batchLabels));
                TFloat32 lrTensor = TFloat32.scalarOf(lr);
                TFloat32 b1 = TFloat32.scalarOf((float) Math.pow(Trainer.BETA1, step));
                TFloat32 b2 = TFloat32.scalarOf((float) Math.pow(Trainer.BETA2, step));
                Result result = session.runner().feed(input, x).feed(labels, y).feed(learningRate, lrTensor)
                    .feed(beta1Power, b1).feed(beta2Power, b2).addTarget(trainStep).fetch(loss).run()) {
              float value = ((TFloat32) result.get(0)).getFloat();
              if (!Float.isFinite(value)) {
                throw new IllegalStateException("head loss became " + value + " at step " + step
                    + "; lower the head's learning rate");
              }
              sum += value;
            }
          }
          lossByEpoch.add((float) (sum / stepsPerEpoch));
          if (epoch == 1 || epoch == config.epochs() || epoch % 10 == 0) {
            progress.accept(String.format(Locale.ROOT, "head epoch %d/%d loss %.4f (%.0f s)", epoch, config.epochs(),
                lossByEpoch.getLast(), (System.nanoTime() - start) / 1e9));
          }
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        for (EmbeddingNetwork.Parameter p : network.parameters()) {
          try (Result result = session.runner().fetch(parameters.get(p.name())).run()) {
            float[] value = new float[p.size()];
            ((TFloat32) result.get(0)).copyTo(DataBuffers.of(value, false, false));
            values.put(p.name(), value);
          }
        }
        return new Head(config.network(), inputDimension, values, List.copyOf(lossByEpoch));
      }
    }
  }

  /**
   * The head's embeddings of {@code features} (rows of {@link Head#inputDimension()}), through the
   * same serving graph the export adds (no dropout); L2-normalised rows of {@link Head#dimension()}.
   */
  public static float[][] apply(Head head, float[][] features) {
    TensorFlowNatives.install();
    EmbeddingNetwork network = new EmbeddingNetwork(head.network(), 1, 1, head.inputDimension());
    int n = features.length;
    int d = head.inputDimension();
    float[] flat = new float[n * d];
    for (int i = 0; i < n; i++) {
      System.arraycopy(features[i], 0, flat, i * d, d);
    }
    try (Graph graph = new Graph(); Session session = new Session(graph)) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> input = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, d)));
      Operand<TFloat32> out = network.forward(tf, input, constants(tf, network, head), null);
      try (TFloat32 x = TFloat32.tensorOf(Shape.of(n, d), DataBuffers.of(flat));
          Result result = session.runner().feed(input, x).fetch(out).run()) {
        int dim = head.dimension();
        float[] values = new float[n * dim];
        ((TFloat32) result.get(0)).copyTo(DataBuffers.of(values, false, false));
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
          rows[i] = java.util.Arrays.copyOfRange(values, i * dim, (i + 1) * dim);
        }
        return rows;
      }
    }
  }

  /**
   * Writes backbone + head as one SavedModel with a {@code model.json} into {@code outDir}: the
   * backbone's graph and variables as they are, its output L2-normalised (as the embedder fed it
   * to training), then the head with its weights as constants. The descriptor is the backbone's
   * (input size, channels, normalisation, resize) with the new id, output and dimension.
   *
   * @throws IllegalArgumentException when the head's input width is not the backbone's dimension
   */
  public static EmbeddingModelDescriptor exportWithBackbone(Head head, Path backboneDir, Path outDir, String modelId) {
    TensorFlowNatives.install();
    EmbeddingModelDescriptor backbone = EmbeddingModelDescriptor.read(backboneDir);
    if (backbone.embeddingDimension() != head.inputDimension()) {
      throw new IllegalArgumentException("head takes " + head.inputDimension() + "-d features but " + backboneDir
          + " embeds " + backbone.embeddingDimension() + "-d");
    }
    prepare(outDir);
    try (SavedModelBundle bundle = SavedModelBundle.load(backboneDir.toString(), SavedModelBundle.DEFAULT_TAG)) {
      Signature signature = bundle.function(backbone.signature()).signature();
      Graph graph = bundle.graph();
      Output<?> input = graph.outputOrThrow(signature.getInputs().get(backbone.inputTensor()).name);
      @SuppressWarnings("unchecked")
      Output<TFloat32> features = (Output<TFloat32>) graph.outputOrThrow(
          signature.getOutputs().get(backbone.outputTensor()).name);
      Ops tf = Ops.create(graph).withSubScope("photo_head");
      EmbeddingNetwork network = new EmbeddingNetwork(head.network(), 1, 1, head.inputDimension());
      Operand<TFloat32> embedding = tf.withName(OUTPUT_KEY).identity(network.forward(tf,
          GraphOps.l2Normalise(tf, features), constants(tf, network, head), null));
      Signature composite = Signature.builder().key(Signature.DEFAULT_KEY)
          .input(backbone.inputTensor(), input).output(OUTPUT_KEY, embedding).build();
      SavedModelBundle.exporter(outDir.toString())
          .withFunction(SessionFunction.create(composite, bundle.session()))
          .export();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot export backbone + head to " + outDir, e);
    }
    EmbeddingModelDescriptor descriptor = new EmbeddingModelDescriptor(modelId, "1", backbone.inputHeight(),
        backbone.inputWidth(), backbone.inputChannels(), backbone.channelOrder(), backbone.normalisation(),
        backbone.resizePolicy(), backbone.padValue(), Signature.DEFAULT_KEY, backbone.inputTensor(), OUTPUT_KEY,
        head.dimension());
    descriptor.write(outDir);
    return descriptor;
  }

  /**
   * Writes a model whose output is an inner tensor of {@code backboneDir}'s graph, flattened to
   * {@code [batch, D]} (e.g. the CNN's last pooled feature map, {@code layer6_2/Reshape}, 3,136-d): the
   * frozen features a head can be trained on, served like any model. The descriptor is the
   * backbone's with the new id, output and dimension.
   *
   * @throws IllegalArgumentException when the graph has no such tensor or its size is not static
   */
  public static EmbeddingModelDescriptor exportFeatures(Path backboneDir, String tensorName, Path outDir,
      String modelId) {
    TensorFlowNatives.install();
    EmbeddingModelDescriptor backbone = EmbeddingModelDescriptor.read(backboneDir);
    prepare(outDir);
    int dimension;
    try (SavedModelBundle bundle = SavedModelBundle.load(backboneDir.toString(), SavedModelBundle.DEFAULT_TAG)) {
      Signature signature = bundle.function(backbone.signature()).signature();
      Graph graph = bundle.graph();
      Output<?> input = graph.outputOrThrow(signature.getInputs().get(backbone.inputTensor()).name);
      Output<?> inner;
      try {
        inner = graph.outputOrThrow(tensorName.contains(":") ? tensorName : tensorName + ":0");
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(backboneDir + " has no tensor " + tensorName + " (" + e.getMessage() + ")",
            e);
      }
      Shape shape = inner.shape();
      long size = 1;
      for (int d = 1; d < shape.numDimensions(); d++) {
        size *= shape.get(d);
      }
      if (shape.numDimensions() < 2 || size <= 0) {
        throw new IllegalArgumentException("tensor " + tensorName + " of " + backboneDir + " has shape " + shape
            + ": need [batch, ...] with known sizes");
      }
      dimension = Math.toIntExact(size);
      Ops tf = Ops.create(graph).withSubScope("frozen_features");
      @SuppressWarnings("unchecked")
      Operand<TFloat32> features = tf.withName(OUTPUT_KEY).reshape((Operand<TFloat32>) inner,
          tf.constant(new int[] {-1, dimension}));
      Signature exported = Signature.builder().key(Signature.DEFAULT_KEY)
          .input(backbone.inputTensor(), input).output(OUTPUT_KEY, features).build();
      SavedModelBundle.exporter(outDir.toString()).withFunction(SessionFunction.create(exported, bundle.session()))
          .export();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot export the features of " + backboneDir + " to " + outDir, e);
    }
    EmbeddingModelDescriptor descriptor = new EmbeddingModelDescriptor(modelId, "1", backbone.inputHeight(),
        backbone.inputWidth(), backbone.inputChannels(), backbone.channelOrder(), backbone.normalisation(),
        backbone.resizePolicy(), backbone.padValue(), Signature.DEFAULT_KEY, backbone.inputTensor(), OUTPUT_KEY,
        dimension);
    descriptor.write(outDir);
    return descriptor;
  }

  private static void prepare(Path outDir) {
    try {
      Folders.deleteRecursively(outDir);
      Files.createDirectories(outDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + outDir, e);
    }
  }

  private static Map<String, Operand<TFloat32>> constants(Ops tf, EmbeddingNetwork network, Head head) {
    Map<String, Operand<TFloat32>> params = new LinkedHashMap<>();
    for (EmbeddingNetwork.Parameter p : network.parameters()) {
      float[] values = head.parameters().get(p.name());
      if (values == null || values.length != p.size()) {
        throw new IllegalArgumentException("head has no " + p.size() + " values for " + p.name());
      }
      params.put(p.name(), GraphOps.scoped(tf, p.name() + "_value").constant(Shape.of(p.shape()),
          DataBuffers.of(values)));
    }
    return params;
  }

  // Rows of each item, items numbered 0..n-1 in order of first appearance.
  private static int[][] viewsByItem(int[] items) {
    Map<Integer, List<Integer>> byItem = new LinkedHashMap<>();
    for (int row = 0; row < items.length; row++) {
      byItem.computeIfAbsent(items[row], k -> new ArrayList<>()).add(row);
    }
    int[][] views = new int[byItem.size()][];
    int k = 0;
    for (List<Integer> rows : byItem.values()) {
      views[k++] = rows.stream().mapToInt(Integer::intValue).toArray();
    }
    for (int[] v : views) {
      if (v.length != views[0].length || v.length < 2) {
        throw new IllegalArgumentException("every item needs the same number (at least 2) of views, found "
            + v.length + " and " + views[0].length);
      }
    }
    if (views.length < 2) {
      throw new IllegalArgumentException("head training needs at least 2 items, got " + views.length);
    }
    return views;
  }

  private float learningRate(int step, int totalSteps) {
    int warmup = Math.max(1, totalSteps / 20);
    if (step <= warmup) {
      return config.learningRate() * step / warmup;
    }
    double t = (double) (step - warmup) / Math.max(1, totalSteps - warmup);
    return (float) (config.learningRate() * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t))));
  }

  private static void shuffle(int[] a, SplittableRandom random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
