package dev.similarity.embedding.keras;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.EmbeddingModelDescriptor.Normalisation;
import dev.similarity.embedding.Resampling;
import dev.similarity.embedding.ResizePolicy;
import dev.similarity.embedding.internal.Folders;
import dev.similarity.embedding.internal.TensorFlowNatives;
import dev.similarity.embedding.keras.TfjsLayersModel.Layer;
import dev.similarity.embedding.keras.TfjsLayersModel.Weight;
import dev.similarity.embedding.training.GraphOps;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.types.TFloat32;

/**
 * Converts a Keras model in TF.js layers format into one of our embedding models: a SavedModel
 * whose {@code serving_default} signature maps {@code image} {@code [batch, H, W, C]} (the values
 * the Keras model receives) to {@code embedding} {@code [batch, d]}, the output of a chosen layer
 * (the global-pooled features) L2-normalised, plus the {@code model.json} descriptor that tells
 * the embedder how pixels become those values.
 *
 * <p>The graph is built in TensorFlow graph mode through TF Java, as training builds ours: one
 * variable per Keras weight, named as in the Keras model ({@code conv2d_1/kernel}), holding the
 * dequantised values.
 */
public final class KerasImporter {

  /** Signature input key of imported models. */
  public static final String INPUT_KEY = "image";
  /** Signature output key of imported models. */
  public static final String OUTPUT_KEY = "embedding";

  /**
   * What to convert and how the model's pixels are prepared.
   *
   * @param source folder of the layers-format model (model.json + shards)
   * @param outputLayer the Keras layer whose output is the embedding (flattened, [batch, d])
   * @param outputDir where the SavedModel and model.json go (replaced)
   * @param modelId id written to model.json
   * @param version version written to model.json
   * @param channelOrder RGB or BGR: the order the Keras model expects
   * @param normalisation 0..255 pixels to model values: the network's own preprocessing
   * @param resizePolicy how images are fitted to the input
   * @param resampling how pixels are interpolated while resizing
   * @param padValue grey level transparent pixels (and any letterbox bands) are laid over
   */
  public record Request(Path source, String outputLayer, Path outputDir, String modelId, String version,
      String channelOrder, Normalisation normalisation, ResizePolicy resizePolicy, Resampling resampling,
      int padValue) {
    public Request {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(outputLayer, "outputLayer");
      Objects.requireNonNull(outputDir, "outputDir");
    }
  }

  /**
   * What was converted.
   *
   * @param descriptor the written model.json
   * @param layerClasses layers built, by Keras class
   * @param modelLayerClasses every layer of the source model, by Keras class
   * @param parameters number of weight values in the SavedModel
   * @param files SHA-256 of every file of the model folder, by path relative to it
   * @param seconds wall time of the conversion
   */
  public record Result(EmbeddingModelDescriptor descriptor, Map<String, Integer> layerClasses,
      Map<String, Integer> modelLayerClasses, long parameters, Map<String, String> files, double seconds) {}

  private KerasImporter() {}

  /**
   * Converts {@code request.source()}.
   *
   * @throws IllegalArgumentException when the model has a layer class or option the importer does
   *     not support (named in the message), or the output layer is not a flat [batch, d] tensor
   */
  public static Result convert(Request request) {
    long start = System.nanoTime();
    TensorFlowNatives.install();
    TfjsLayersModel model = TfjsLayersModel.read(request.source());
    KerasGraphBuilder builder = new KerasGraphBuilder(model, request.outputLayer());
    Map<String, Weight> weights = builder.weights();
    int[] input = builder.inputShape();
    Path out = request.outputDir();
    refuseToReplaceOtherFiles(out);
    Path checkpoint;
    try {
      Folders.deleteRecursively(out);
      Files.createDirectories(out);
      checkpoint = Files.createTempDirectory("keras-import");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + out, e);
    }
    try {
      String prefix = checkpoint.resolve("variables").toString();
      saveWeights(weights, prefix);
      int dimension = export(builder, input, prefix, out);
      EmbeddingModelDescriptor descriptor = new EmbeddingModelDescriptor(request.modelId(), request.version(),
          input[0], input[1], input[2], request.channelOrder(), request.normalisation(), request.resizePolicy(),
          request.padValue(), Signature.DEFAULT_KEY, INPUT_KEY, OUTPUT_KEY, dimension, request.resampling());
      descriptor.write(out);
      long parameters = weights.values().stream().mapToLong(w -> w.values().length).sum();
      return new Result(descriptor, countClasses(builder.layers()), countClasses(model.layers()), parameters,
          checksums(out), (System.nanoTime() - start) / 1e9);
    } finally {
      try {
        Folders.deleteRecursively(checkpoint);
      } catch (IOException e) {
        // A temporary checkpoint left behind is harmless.
      }
    }
  }

  // The output folder is replaced as a whole: only when it is empty or already holds a model.
  private static void refuseToReplaceOtherFiles(Path out) {
    if (!Files.isDirectory(out)) {
      return;
    }
    try (Stream<Path> children = Files.list(out)) {
      boolean empty = children.findAny().isEmpty();
      if (!empty && !Files.exists(out.resolve("saved_model.pb")) && !Files.exists(out.resolve("model.json"))) {
        throw new IllegalArgumentException("output folder " + out + " holds files but no model (no saved_model.pb "
            + "or model.json); the importer replaces its output folder as a whole, so give it an empty or a model folder");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + out, e);
    }
  }

  // Graph 1: each weight a variable initialised from its values, saved as a checkpoint. The values
  // live only in this graph, so the exported graph carries no copy of them.
  private static void saveWeights(Map<String, Weight> weights, String prefix) {
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      for (Weight w : weights.values()) {
        GraphOps.scoped(tf, w.name()).variable(tf.constant(Shape.of(w.shape()), DataBuffers.of(w.values(), true, false)));
      }
      try (Session session = new Session(graph)) {
        session.initialize();
        session.save(prefix);
      }
    }
  }

  // Graph 2: the forward pass over variables of the same names, restored from the checkpoint.
  private static int export(KerasGraphBuilder builder, int[] input, String prefix, Path out) {
    try (Graph graph = new Graph()) {
      Ops tf = Ops.create(graph);
      Placeholder<TFloat32> image = tf.withName(INPUT_KEY).placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, input[0], input[1], input[2])));
      // Variables first: they claim the layers' scope names, so their names match the checkpoint's.
      Map<String, Operand<TFloat32>> variables = new LinkedHashMap<>();
      for (Weight w : builder.weights().values()) {
        variables.put(w.name(), GraphOps.scoped(tf, w.name()).variable(Shape.of(w.shape()), TFloat32.class));
      }
      Operand<TFloat32> features = builder.build(tf, image, (name, shape) -> variables.get(name));
      Shape shape = features.shape();
      if (shape.numDimensions() != 2 || shape.get(1) <= 0) {
        throw new IllegalArgumentException("layer '" + builder.layers().get(builder.layers().size() - 1).name()
            + "' outputs shape " + shape + "; the embedding layer must output [batch, d] (a Flatten or "
            + "GlobalAveragePooling2D after the last pooling)");
      }
      Operand<TFloat32> embedding = tf.withName(OUTPUT_KEY).identity(GraphOps.l2Normalise(tf, features));
      try (Session session = new Session(graph)) {
        session.restore(prefix);
        Signature signature = Signature.builder().key(Signature.DEFAULT_KEY)
            .input(INPUT_KEY, image).output(OUTPUT_KEY, embedding).build();
        SavedModelBundle.exporter(out.toString()).withFunction(SessionFunction.create(signature, session)).export();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot export the SavedModel to " + out, e);
      }
      rewriteDeterministically(out.resolve("saved_model.pb"));
      return Math.toIntExact(shape.get(1));
    }
  }

  // The exporter serialises each node's attribute map in hash order, so the same graph gives
  // different bytes from run to run. Map entries sorted by key make the file reproducible, and so
  // its SHA-256 a check of the conversion.
  private static void rewriteDeterministically(Path file) {
    try {
      SavedModel model = SavedModel.parseFrom(Files.readAllBytes(file));
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(model.getSerializedSize());
      CodedOutputStream coded = CodedOutputStream.newInstance(bytes);
      coded.useDeterministicSerialization();
      model.writeTo(coded);
      coded.flush();
      Files.write(file, bytes.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot rewrite " + file, e);
    }
  }

  /** SHA-256 of every regular file under {@code dir}, by relative path, sorted. */
  public static Map<String, String> checksums(Path dir) {
    Map<String, String> sums = new TreeMap<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
        sums.put(dir.relativize(file).toString(), Folders.sha256(file));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot checksum " + dir, e);
    }
    return sums;
  }

  private static Map<String, Integer> countClasses(List<Layer> layers) {
    Map<String, Integer> classes = new TreeMap<>();
    layers.forEach(l -> classes.merge(l.className(), 1, Integer::sum));
    return classes;
  }
}
