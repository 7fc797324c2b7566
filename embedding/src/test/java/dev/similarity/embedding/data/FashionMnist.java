package dev.similarity.embedding.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import javax.imageio.ImageIO;

/**
 * One split of Fashion-MNIST (Zalando's 28x28 grayscale clothing images, 10 categories) read from
 * the original IDX files.
 *
 * <p>The folder is taken from the system property {@value #DIR_PROPERTY}, then the environment
 * variable {@value #DIR_ENV}, then {@value #DEFAULT_DIR} (where Debian's
 * {@code dataset-fashion-mnist} package installs it). Images are kept as one byte array, so a
 * split costs about 47 MB (train) or 8 MB (test) of heap. Instances are immutable.
 */
public final class FashionMnist {

  public static final String DIR_PROPERTY = "fashion.mnist.dir";
  public static final String DIR_ENV = "FASHION_MNIST_DIR";
  public static final String DEFAULT_DIR = "/usr/share/datasets/fashion-mnist";
  public static final int ROWS = 28;
  public static final int COLUMNS = 28;
  public static final int PIXELS = ROWS * COLUMNS;
  public static final int CLASSES = 10;

  private static final List<String> CATEGORY_NAMES = List.of(
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
  private static final int IMAGES_MAGIC = 0x00000803;
  private static final int LABELS_MAGIC = 0x00000801;

  /** The two published splits. */
  public enum Split {
    TRAIN("train", 60_000),
    TEST("t10k", 10_000);

    private final String filePrefix;
    private final int expectedSize;

    Split(String filePrefix, int expectedSize) {
      this.filePrefix = filePrefix;
      this.expectedSize = expectedSize;
    }

    /** Number of images in the published split. */
    public int expectedSize() {
      return expectedSize;
    }

    /** Parses "train" / "test" (also "t10k"), case-insensitively. */
    public static Split parse(String name) {
      return switch (name.toLowerCase(java.util.Locale.ROOT)) {
        case "train" -> TRAIN;
        case "test", "t10k" -> TEST;
        default -> throw new IllegalArgumentException(
            "unknown Fashion-MNIST split '" + name + "': use train or test");
      };
    }
  }

  private final Split split;
  private final byte[] pixels;
  private final byte[] labels;

  private FashionMnist(Split split, byte[] pixels, byte[] labels) {
    this.split = split;
    this.pixels = pixels;
    this.labels = labels;
  }

  /** Reads {@code split} from {@link #directory()}. */
  public static FashionMnist load(Split split) {
    return load(directory(), split);
  }

  /** Reads {@code split} from {@code dir}. */
  public static FashionMnist load(Path dir, Split split) {
    Objects.requireNonNull(split, "split");
    Path images = dir.resolve(split.filePrefix + "-images-idx3-ubyte.gz");
    Path labels = dir.resolve(split.filePrefix + "-labels-idx1-ubyte.gz");
    for (Path file : List.of(images, labels)) {
      if (!Files.isRegularFile(file)) {
        throw new IllegalStateException("Fashion-MNIST file " + file + " is missing: install it with "
            + "'apt-get install dataset-fashion-mnist' or point -D" + DIR_PROPERTY + " / " + DIR_ENV
            + " at a folder holding the four *-ubyte.gz files");
      }
    }
    try {
      byte[] labelBytes = readIdx(labels, LABELS_MAGIC, 1);
      byte[] imageBytes = readIdx(images, IMAGES_MAGIC, 3);
      if (imageBytes.length != labelBytes.length * PIXELS) {
        throw new IllegalStateException(images + " holds " + imageBytes.length / PIXELS
            + " images but " + labels + " holds " + labelBytes.length + " labels");
      }
      return new FashionMnist(split, imageBytes, labelBytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read Fashion-MNIST " + split + " from " + dir, e);
    }
  }

  /** The configured dataset folder (see the class comment). */
  public static Path directory() {
    String dir = System.getProperty(DIR_PROPERTY);
    if (dir == null || dir.isBlank()) {
      dir = System.getenv(DIR_ENV);
    }
    return Path.of(dir == null || dir.isBlank() ? DEFAULT_DIR : dir);
  }

  private static byte[] readIdx(Path file, int magic, int dimensions) throws IOException {
    try (InputStream raw = Files.newInputStream(file);
        DataInputStream in = new DataInputStream(new GZIPInputStream(raw, 1 << 16))) {
      int found = in.readInt();
      if (found != magic) {
        throw new IOException(file + " is not an IDX file of rank " + dimensions
            + " (magic " + Integer.toHexString(found) + ")");
      }
      long total = 1;
      for (int d = 0; d < dimensions; d++) {
        total *= in.readInt();
      }
      if (total <= 0 || total > Integer.MAX_VALUE) {
        throw new IOException(file + " announces " + total + " values");
      }
      byte[] data = new byte[(int) total];
      try {
        in.readFully(data);
      } catch (EOFException e) {
        throw new IOException(file + " is truncated: expected " + total + " values", e);
      }
      return data;
    }
  }

  public Split split() {
    return split;
  }

  public int size() {
    return labels.length;
  }

  /** Category 0..9 of image {@code i}. */
  public int label(int i) {
    Objects.checkIndex(i, labels.length);
    return labels[i];
  }

  /** The 784 pixels of image {@code i}, row-major, 0 = background, 255 = ink. A fresh copy. */
  public byte[] pixels(int i) {
    Objects.checkIndex(i, labels.length);
    byte[] out = new byte[PIXELS];
    System.arraycopy(pixels, i * PIXELS, out, 0, PIXELS);
    return out;
  }

  /** Copies image {@code i}'s pixels into {@code target} at {@code offset} without allocating. */
  public void copyPixels(int i, byte[] target, int offset) {
    Objects.checkIndex(i, labels.length);
    System.arraycopy(pixels, i * PIXELS, target, offset, PIXELS);
  }

  /** Image {@code i} as an 8-bit grayscale PNG (what the demo catalogue serves over HTTP). */
  public byte[] png(int i) {
    BufferedImage image = new BufferedImage(COLUMNS, ROWS, BufferedImage.TYPE_BYTE_GRAY);
    image.getRaster().setDataElements(0, 0, COLUMNS, ROWS, pixels(i));
    ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
    try {
      ImageIO.write(image, "png", out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Human-readable name of a category: 0 = "T-shirt/top" ... 9 = "Ankle boot". */
  public static String categoryName(int label) {
    Objects.checkIndex(label, CLASSES);
    return CATEGORY_NAMES.get(label);
  }
}
