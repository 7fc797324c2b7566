package dev.similarity.embedding;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * What the serving code needs to know about a SavedModel, read from {@value #FILE_NAME} in the
 * model folder (next to {@code saved_model.pb}).
 *
 * <p>The model receives one float32 tensor {@code [batch, inputHeight, inputWidth, inputChannels]}
 * (NHWC) under the signature input {@code inputTensor}; every value is
 * {@code (pixel * scale - mean[c]) / std[c]} with {@code pixel} in 0..255, channels in
 * {@code channelOrder} (RGB or BGR; 1 channel = luminance). It returns
 * {@code [batch, embeddingDimension]} under the signature output {@code outputTensor}; the
 * embedder L2-normalises that output whether or not the model already did.
 *
 * @param modelId stable name of the model, e.g. {@code fashion-mnist-similarity}
 * @param version version of the weights, e.g. {@code 1}
 * @param inputHeight model input height in pixels
 * @param inputWidth model input width in pixels
 * @param inputChannels 1 (grayscale) or 3 (colour)
 * @param channelOrder order of 3 colour channels: {@code RGB} or {@code BGR}
 * @param normalisation how 0..255 pixels become model values
 * @param resizePolicy how any image size is fitted to the input size
 * @param padValue 0..255 grey level of letterbox bands and of transparent pixels
 * @param signature SavedModel signature key, usually {@code serving_default}
 * @param inputTensor input key inside that signature
 * @param outputTensor output key inside that signature
 * @param embeddingDimension length of the embedding
 * @param resampling how pixels are interpolated while resizing; {@code null} reads as
 *     {@link Resampling#AREA} (descriptors written before this field existed)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record EmbeddingModelDescriptor(
    String modelId,
    String version,
    int inputHeight,
    int inputWidth,
    int inputChannels,
    String channelOrder,
    Normalisation normalisation,
    ResizePolicy resizePolicy,
    int padValue,
    String signature,
    String inputTensor,
    String outputTensor,
    int embeddingDimension,
    Resampling resampling) {

  /** A descriptor with {@link Resampling#AREA} resampling (every model before resampling was a field). */
  public EmbeddingModelDescriptor(String modelId, String version, int inputHeight, int inputWidth,
      int inputChannels, String channelOrder, Normalisation normalisation, ResizePolicy resizePolicy,
      int padValue, String signature, String inputTensor, String outputTensor, int embeddingDimension) {
    this(modelId, version, inputHeight, inputWidth, inputChannels, channelOrder, normalisation, resizePolicy,
        padValue, signature, inputTensor, outputTensor, embeddingDimension, Resampling.AREA);
  }

  /** File name of the descriptor inside a model folder. */
  public static final String FILE_NAME = "model.json";

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * Per-channel affine map of pixels: {@code value = (pixel * scale - mean[c]) / std[c]}.
   * {@code mean} and {@code std} have one entry per input channel.
   */
  public record Normalisation(float scale, float[] mean, float[] std) {
    public Normalisation {
      Objects.requireNonNull(mean, "normalisation.mean");
      Objects.requireNonNull(std, "normalisation.std");
      mean = mean.clone();
      std = std.clone();
    }

    /** Identity map: the model receives 0..255 values. */
    public static Normalisation none(int channels) {
      float[] zeros = new float[channels];
      float[] ones = new float[channels];
      Arrays.fill(ones, 1f);
      return new Normalisation(1f, zeros, ones);
    }

    @Override
    public float[] mean() {
      return mean.clone();
    }

    @Override
    public float[] std() {
      return std.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Normalisation n && n.scale == scale && Arrays.equals(n.mean, mean)
          && Arrays.equals(n.std, std);
    }

    @Override
    public int hashCode() {
      return Objects.hash(scale, Arrays.hashCode(mean), Arrays.hashCode(std));
    }

    @Override
    public String toString() {
      return "Normalisation[scale=" + scale + ", mean=" + Arrays.toString(mean) + ", std="
          + Arrays.toString(std) + "]";
    }
  }

  /** Validates every field; the message names the field and the file to fix. */
  public EmbeddingModelDescriptor {
    require(modelId != null && !modelId.isBlank(), "modelId", "must be set");
    require(version != null && !version.isBlank(), "version", "must be set");
    require(inputHeight > 0 && inputHeight <= 4096, "inputHeight", "must be 1..4096, was " + inputHeight);
    require(inputWidth > 0 && inputWidth <= 4096, "inputWidth", "must be 1..4096, was " + inputWidth);
    require(inputChannels == 1 || inputChannels == 3, "inputChannels", "must be 1 or 3, was " + inputChannels);
    channelOrder = channelOrder == null ? "RGB" : channelOrder.toUpperCase(Locale.ROOT);
    require(channelOrder.equals("RGB") || channelOrder.equals("BGR"), "channelOrder",
        "must be RGB or BGR, was " + channelOrder);
    require(normalisation != null, "normalisation", "must be set (scale, mean, std)");
    require(normalisation.mean.length == inputChannels && normalisation.std.length == inputChannels,
        "normalisation", "needs one mean and one std per input channel (" + inputChannels + ")");
    for (float s : normalisation.std) {
      require(s > 0 && Float.isFinite(s), "normalisation.std", "must be positive, was " + s);
    }
    require(normalisation.scale > 0 && Float.isFinite(normalisation.scale), "normalisation.scale",
        "must be positive, was " + normalisation.scale);
    require(resizePolicy != null, "resizePolicy", "must be LETTERBOX, CENTER_CROP or STRETCH");
    resampling = resampling == null ? Resampling.AREA : resampling;
    require(padValue >= 0 && padValue <= 255, "padValue", "must be 0..255, was " + padValue);
    signature = signature == null || signature.isBlank() ? "serving_default" : signature;
    require(inputTensor != null && !inputTensor.isBlank(), "inputTensor", "must name the signature input");
    require(outputTensor != null && !outputTensor.isBlank(), "outputTensor", "must name the signature output");
    require(embeddingDimension > 0, "embeddingDimension", "must be positive, was " + embeddingDimension);
  }

  private static void require(boolean ok, String field, String problem) {
    if (!ok) {
      throw new IllegalArgumentException(FILE_NAME + ": " + field + " " + problem);
    }
  }

  /** {@code modelId@version}, the id stored next to every embedding. */
  public String qualifiedId() {
    return modelId + "@" + version;
  }

  /**
   * The committed model: the first {@code models/<name>/model.json} (by name) in {@code from} or the
   * nearest parent folder that has one.
   */
  public static java.util.Optional<Path> findCommitted(Path from) {
    for (Path dir = from.toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path models = dir.resolve("models");
      if (!Files.isDirectory(models)) {
        continue;
      }
      try (java.util.stream.Stream<Path> children = Files.list(models)) {
        java.util.Optional<Path> model =
            children.filter(d -> Files.isRegularFile(d.resolve(FILE_NAME))).sorted().findFirst();
        if (model.isPresent()) {
          return model;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot list " + models + ": " + e.getMessage(), e);
      }
    }
    return java.util.Optional.empty();
  }

  /** Reads {@value #FILE_NAME} from {@code modelDir}. */
  public static EmbeddingModelDescriptor read(Path modelDir) {
    Path file = modelDir.resolve(FILE_NAME);
    try {
      return JSON.readValue(Files.readAllBytes(file), EmbeddingModelDescriptor.class);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("model folder " + modelDir + " has no " + FILE_NAME
          + ": write a descriptor next to saved_model.pb (see docs/embedding.md)", e);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + rootMessage(e), e);
    }
  }

  /** Writes this descriptor as {@value #FILE_NAME} into {@code modelDir}. */
  public void write(Path modelDir) {
    try {
      Files.writeString(modelDir.resolve(FILE_NAME), toJson() + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + modelDir.resolve(FILE_NAME), e);
    }
  }

  /** This descriptor as indented JSON. */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage();
  }
}
