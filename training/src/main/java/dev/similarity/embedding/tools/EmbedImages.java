package dev.similarity.embedding.tools;

import dev.similarity.embedding.DeviceSelection;
import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.data.FashionMnist;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code scripts/embed}: embeds a folder of images or a Fashion-MNIST split into
 * {@code PREFIX.npy} (float32, N x d) and {@code PREFIX.ids} (line i describes row i:
 * {@code id<TAB>label}, the label column present where known).
 */
public final class EmbedImages {

  private static final String USAGE = """
      usage: embed (--images DIR | --fashion-mnist train|test) --out PREFIX
                   [--model DIR] [--batch N] [--limit N] [--device cpu|gpu|auto]
        --images DIR          every image file under DIR (recursively, sorted); id = path under DIR,
                              label = first folder under DIR when the file is in one
        --fashion-mnist SPLIT the split's images as PNGs; id = split-index, label = category 0..9
        --out PREFIX          writes PREFIX.npy and PREFIX.ids
        --model DIR           model folder (default models/fashion-mnist-similarity)
        --batch N             images per model call (default 256)
      """;

  private EmbedImages() {}

  /** One image to embed: where it comes from and how to get its bytes. */
  private interface Source {
    int size();

    String id(int i);

    String label(int i);

    byte[] bytes(int i) throws IOException;
  }

  public static void main(String[] args) {
    try {
      Arguments a = Arguments.parse(args, USAGE,
          List.of("--images", "--fashion-mnist", "--out", "--model", "--batch", "--limit", "--device"), List.of());
      if (a.has("--images") == a.has("--fashion-mnist")) {
        throw new Arguments.UsageException("give exactly one of --images and --fashion-mnist\n" + USAGE);
      }
      Path prefix = Path.of(a.require("--out"));
      ImageEmbedderConfig config = ImageEmbedderConfig.builder()
          .modelDir(Path.of(a.get("--model", "models/fashion-mnist-similarity")))
          .device(DeviceSelection.valueOf(a.get("--device", "cpu").toUpperCase(Locale.ROOT)))
          .maxBatchSize(a.getInt("--batch", 256))
          .build();
      Source source = a.has("--images") ? folder(Path.of(a.require("--images")), config.maxImageBytes())
          : fashionMnist(FashionMnist.Split.parse(a.require("--fashion-mnist")));
      int limit = Math.min(source.size(), a.getInt("--limit", Integer.MAX_VALUE));
      run(source, limit, config, prefix);
    } catch (Arguments.UsageException e) {
      System.err.println(e.getMessage());
      System.exit(2);
    } catch (IllegalArgumentException | IllegalStateException | IOException | UncheckedIOException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }

  private static void run(Source source, int limit, ImageEmbedderConfig config, Path prefix) throws IOException {
    Path npy = Path.of(prefix + ".npy");
    Path ids = Path.of(prefix + ".ids");
    if (prefix.toAbsolutePath().getParent() != null) {
      Files.createDirectories(prefix.toAbsolutePath().getParent());
    }
    long start = System.nanoTime();
    Map<String, Integer> failures = new TreeMap<>();
    try (ImageEmbedder embedder = ImageEmbedder.load(config);
        NpyWriter vectors = new NpyWriter(npy, embedder.dimension());
        BufferedWriter idLines = Files.newBufferedWriter(ids)) {
      System.out.printf("embedding %d images with %s (%d dimensions) into %s and %s%n", limit,
          embedder.modelId(), embedder.dimension(), npy, ids);
      long lastReport = System.nanoTime();
      int batchSize = config.maxBatchSize();
      for (int from = 0; from < limit; from += batchSize) {
        int to = Math.min(limit, from + batchSize);
        List<byte[]> batch = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
          batch.add(readQuietly(source, i));
        }
        List<EmbeddingResult> results = embedder.embedBatch(batch);
        for (int i = from; i < to; i++) {
          EmbeddingResult result = results.get(i - from);
          if (result.isSuccess()) {
            vectors.write(result.vector());
            String label = source.label(i);
            idLines.write(label == null ? source.id(i) : source.id(i) + "\t" + label);
            idLines.newLine();
          } else {
            failures.merge(result.error().reason().name(), 1, Integer::sum);
            System.err.println("skipped " + source.id(i) + ": " + result.error().getMessage());
          }
        }
        if (System.nanoTime() - lastReport > 5_000_000_000L || to == limit) {
          lastReport = System.nanoTime();
          double seconds = (lastReport - start) / 1e9;
          double rate = to / seconds;
          System.out.printf(Locale.ROOT, "  %d/%d images, %.0f images/s, about %.0f s left%n", to, limit,
              rate, (limit - to) / rate);
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(Locale.ROOT, "done: %d vectors written, %d skipped%s, %.1f s including model load "
              + "(%.0f images/s)%n", vectors.rows(), limit - vectors.rows(),
          failures.isEmpty() ? "" : " " + failures, seconds, limit / seconds);
    }
  }

  private static byte[] readQuietly(Source source, int i) {
    try {
      return source.bytes(i);
    } catch (IOException e) {
      System.err.println("cannot read " + source.id(i) + ": " + e.getMessage());
      return new byte[0];
    }
  }

  private static Source fashionMnist(FashionMnist.Split split) {
    FashionMnist data = FashionMnist.load(split);
    String name = split.name().toLowerCase(Locale.ROOT);
    return new Source() {
      @Override
      public int size() {
        return data.size();
      }

      @Override
      public String id(int i) {
        return String.format(Locale.ROOT, "%s-%05d", name, i);
      }

      @Override
      public String label(int i) {
        return Integer.toString(data.label(i));
      }

      @Override
      public byte[] bytes(int i) {
        return data.png(i);
      }
    };
  }

  private static Source folder(Path root, long maxImageBytes) throws IOException {
    if (!Files.isDirectory(root)) {
      throw new IllegalArgumentException("--images " + root + " is not a folder");
    }
    List<Path> files;
    try (Stream<Path> walk = Files.walk(root)) {
      files = walk.filter(Files::isRegularFile)
          .filter(p -> !p.getFileName().toString().startsWith("."))
          .sorted()
          .toList();
    }
    if (files.isEmpty()) {
      throw new IllegalArgumentException("--images " + root + " holds no files");
    }
    return new Source() {
      @Override
      public int size() {
        return files.size();
      }

      @Override
      public String id(int i) {
        return root.relativize(files.get(i)).toString().replace('\t', ' ');
      }

      @Override
      public String label(int i) {
        Path relative = root.relativize(files.get(i));
        return relative.getNameCount() > 1 ? relative.getName(0).toString() : null;
      }

      // Reads at most one byte past the limit: enough for the embedder to refuse an oversize
      // file as TOO_MANY_BYTES without loading all of it.
      @Override
      public byte[] bytes(int i) throws IOException {
        try (var in = Files.newInputStream(files.get(i))) {
          return in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxImageBytes + 1));
        }
      }
    };
  }
}
