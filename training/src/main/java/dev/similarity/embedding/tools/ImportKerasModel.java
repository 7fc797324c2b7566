package dev.similarity.embedding.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.similarity.embedding.EmbeddingModelDescriptor.Normalisation;
import dev.similarity.embedding.Resampling;
import dev.similarity.embedding.ResizePolicy;
import dev.similarity.embedding.keras.KerasImporter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code scripts/import-keras-model} (its Java half): converts a TF.js layers-format Keras model
 * into a SavedModel + model.json and writes {@value #RECORD} beside them (source, options, SHA-256
 * of every file).
 */
public final class ImportKerasModel {

  /** The conversion record written into the model folder. */
  public static final String RECORD = "import.json";

  private static final String USAGE = """
      usage: ImportKerasModel --source DIR --output-layer NAME --out DIR --model-id ID --version V
                              [--preprocessing unit|symmetric] [--resize stretch|letterbox|center-crop]
                              [--resampling bilinear-align-corners|area] [--pad-value 0..255]
                              [--channel-order RGB|BGR] [--source-note TEXT]
        --source DIR        TF.js layers-format model: model.json + weight shards
        --output-layer NAME the layer whose output, L2-normalised, is the embedding ([batch, d])
        --preprocessing     unit: pixel / 255 in [0, 1] (default; what nsfwjs feeds its models);
                            symmetric: pixel / 127.5 - 1 in [-1, 1] (Keras' ImageNet preprocess_input)
        --resize            default stretch (as nsfwjs); letterbox or center-crop keep the aspect ratio
        --resampling        default bilinear-align-corners (TF.js resizeBilinear(..., true), as nsfwjs);
                            area averages when shrinking
        --pad-value         grey level transparent pixels are laid over (default 255, white)
      """;

  private ImportKerasModel() {}

  public static void main(String[] args) {
    try {
      Arguments a = Arguments.parse(args, USAGE, List.of("--source", "--output-layer", "--out", "--model-id",
          "--version", "--preprocessing", "--resize", "--resampling", "--pad-value", "--channel-order",
          "--source-note"), List.of());
      Path source = Path.of(a.require("--source"));
      Path out = Path.of(a.require("--out"));
      String preprocessing = a.get("--preprocessing", "unit");
      Normalisation normalisation = switch (preprocessing) {
        case "unit" -> new Normalisation(1f / 255f, new float[3], new float[] {1f, 1f, 1f});
        case "symmetric" -> new Normalisation(1f / 127.5f, new float[] {1f, 1f, 1f}, new float[] {1f, 1f, 1f});
        default -> throw new Arguments.UsageException("--preprocessing must be unit or symmetric, was "
            + preprocessing + "\n" + USAGE);
      };
      KerasImporter.Request request = new KerasImporter.Request(source, a.require("--output-layer"), out,
          a.require("--model-id"), a.require("--version"), a.get("--channel-order", "RGB"), normalisation,
          option(ResizePolicy.class, "--resize", a.get("--resize", "stretch")),
          option(Resampling.class, "--resampling", a.get("--resampling", "bilinear-align-corners")),
          a.getInt("--pad-value", 255));
      KerasImporter.Result result = KerasImporter.convert(request);
      Map<String, Object> record = new LinkedHashMap<>();
      record.put("model_id", result.descriptor().qualifiedId());
      record.put("source", a.get("--source-note", source.toString()));
      record.put("source_files", KerasImporter.checksums(source));
      record.put("output_layer", request.outputLayer());
      record.put("embedding_dimension", result.descriptor().embeddingDimension());
      record.put("input", List.of(result.descriptor().inputHeight(), result.descriptor().inputWidth(),
          result.descriptor().inputChannels()));
      record.put("preprocessing", preprocessing);
      record.put("layers_built", result.layerClasses());
      record.put("layers_in_model", result.modelLayerClasses());
      record.put("parameters", result.parameters());
      record.put("files", result.files());
      record.put("seconds", Math.round(result.seconds() * 10) / 10.0);
      Files.writeString(out.resolve(RECORD), new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
          .writeValueAsString(record) + "\n");
      System.out.printf(Locale.ROOT, "converted %s: %s -> %s, %d-d embedding from layer %s, %,d parameters, "
              + "%.1f s%n", result.descriptor().qualifiedId(), source, out, result.descriptor().embeddingDimension(),
          request.outputLayer(), result.parameters(), result.seconds());
    } catch (Arguments.UsageException e) {
      System.err.println(e.getMessage());
      System.exit(2);
    } catch (IllegalArgumentException | IllegalStateException | UncheckedIOException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    } catch (IOException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  private static <E extends Enum<E>> E option(Class<E> type, String name, String value) {
    try {
      return Enum.valueOf(type, value.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      List<String> allowed = java.util.Arrays.stream(type.getEnumConstants())
          .map(c -> c.name().toLowerCase(Locale.ROOT).replace('_', '-')).toList();
      throw new Arguments.UsageException(name + " must be one of " + allowed + ", was '" + value + "'\n" + USAGE);
    }
  }
}
