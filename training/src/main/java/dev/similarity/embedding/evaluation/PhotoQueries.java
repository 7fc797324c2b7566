package dev.similarity.embedding.evaluation;

import dev.similarity.embedding.data.FashionMnist;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Objects;
import java.util.SplittableRandom;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Shoppers' photos of catalogue items, made deterministically from Fashion-MNIST images: the
 * stand-in for Street2Shop-style "photo of a product I saw" queries.
 *
 * <p>Photo {@code q} of item {@code i} is the 28x28 grey catalogue image rendered as a colour photo
 * would show it: a canvas of 224..320 px a side, a textured background (colour value noise,
 * stripes or checks, with pixel noise), one to three other catalogue items lying around as clutter,
 * then the item itself tinted in a random colour with a light gradient, scaled to 50..75 % of the
 * canvas's shorter side, rotated up to 12 degrees, shifted up to 12 % off centre, on top; then
 * brightness and contrast jitter and JPEG compression at quality 60..90.
 *
 * <p>Invariant: everything drawn comes from one {@link SplittableRandom} seeded from
 * ({@code seed}, {@code q}, {@code item}), so the same arguments give the same JPEG bytes, whatever
 * was rendered before and in whatever order (the JPEG encoder is the JDK's, deterministic for a
 * given input). Thread-safe.
 */
public final class PhotoQueries {

  /** Shorter canvas side, pixels (inclusive range). */
  static final int MIN_SIDE = 224;
  static final int MAX_SIDE = 320;
  private static final double MAX_ROTATION_DEGREES = 12;
  // Ink above this (0..1) is fully opaque; fainter ink fades into the background.
  private static final double OPAQUE_INK = 0.12;

  private final FashionMnist catalogue;
  private final int catalogueSize;
  private final long seed;

  /**
   * @param catalogue the images to draw items and clutter from
   * @param catalogueSize use only images {@code 0..catalogueSize-1} (the gallery) as clutter
   * @param seed seed of every random choice
   */
  public PhotoQueries(FashionMnist catalogue, int catalogueSize, long seed) {
    this.catalogue = Objects.requireNonNull(catalogue, "catalogue");
    if (catalogueSize < 2 || catalogueSize > catalogue.size()) {
      throw new IllegalArgumentException("catalogueSize must be 2.." + catalogue.size() + ", was " + catalogueSize);
    }
    this.catalogueSize = catalogueSize;
    this.seed = seed;
  }

  /**
   * One rendered photo.
   *
   * @param item catalogue index of the item shown
   * @param label the item's category
   * @param jpeg the photo, JPEG bytes
   * @param width canvas width, pixels
   * @param height canvas height, pixels
   * @param productBox where the item's opaque pixels are, canvas pixels
   */
  public record Photo(int item, int label, byte[] jpeg, int width, int height, Box productBox) {}

  /** An axis-aligned box, {@code [x0, x1) x [y0, y1)} in pixels. */
  public record Box(int x0, int y0, int x1, int y1) {
    public Box {
      if (x1 <= x0 || y1 <= y0) {
        throw new IllegalArgumentException("empty box " + x0 + "," + y0 + " - " + x1 + "," + y1);
      }
    }

    public int width() {
      return x1 - x0;
    }

    public int height() {
      return y1 - y0;
    }

    /** Intersection over union with {@code other}, 0..1. */
    public double iou(Box other) {
      long ix = Math.max(0, Math.min(x1, other.x1) - Math.max(x0, other.x0));
      long iy = Math.max(0, Math.min(y1, other.y1) - Math.max(y0, other.y0));
      long inter = ix * iy;
      long union = (long) width() * height() + (long) other.width() * other.height() - inter;
      return (double) inter / union;
    }
  }

  /**
   * The {@code count} distinct catalogue items that queries {@code 0..count-1} show, a seeded
   * sample of {@code 0..catalogueSize-1}.
   */
  public int[] queryItems(int count) {
    if (count < 1 || count > catalogueSize) {
      throw new IllegalArgumentException("query count must be 1.." + catalogueSize + ", was " + count);
    }
    int[] all = new int[catalogueSize];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    SplittableRandom random = new SplittableRandom(seed ^ 0x51ED270B27F0A1B5L);
    for (int i = 0; i < count; i++) {
      int j = i + random.nextInt(all.length - i);
      int t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
    return java.util.Arrays.copyOf(all, count);
  }

  /** Renders photo number {@code query} of catalogue item {@code item}. */
  public Photo render(int query, int item) {
    Objects.checkIndex(item, catalogue.size());
    SplittableRandom random = new SplittableRandom(mix(seed, query, item));
    int width = MIN_SIDE + random.nextInt(MAX_SIDE - MIN_SIDE + 1);
    int height = MIN_SIDE + random.nextInt(MAX_SIDE - MIN_SIDE + 1);
    float[] canvas = new float[width * height * 3];
    paintBackground(canvas, width, height, random);

    int clutter = 1 + random.nextInt(3);
    int side = Math.min(width, height);
    for (int k = 0; k < clutter; k++) {
      int other = random.nextInt(catalogueSize);
      if (other == item) {
        other = (other + 1) % catalogueSize;
      }
      double scale = side * (0.22 + 0.13 * random.nextDouble()) / FashionMnist.ROWS;
      // Clutter lies anywhere, often cut by the frame; the product is drawn over it.
      double cx = random.nextDouble() * width;
      double cy = random.nextDouble() * height;
      double angle = Math.toRadians((random.nextDouble() * 2 - 1) * 25);
      drawItem(canvas, width, height, catalogue.pixels(other), randomTint(random), scale, angle, cx, cy,
          random, null);
    }

    double scale = side * (0.5 + 0.25 * random.nextDouble()) / FashionMnist.ROWS;
    double angle = Math.toRadians((random.nextDouble() * 2 - 1) * MAX_ROTATION_DEGREES);
    double cx = width / 2.0 + (random.nextDouble() * 2 - 1) * 0.12 * width;
    double cy = height / 2.0 + (random.nextDouble() * 2 - 1) * 0.12 * height;
    int[] box = {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MIN_VALUE, Integer.MIN_VALUE};
    drawItem(canvas, width, height, catalogue.pixels(item), randomTint(random), scale, angle, cx, cy, random, box);

    // Exposure: brightness and contrast jitter around mid-grey, then sensor noise.
    double contrast = 0.8 + 0.4 * random.nextDouble();
    double brightness = (random.nextDouble() * 2 - 1) * 20;
    int[] pixels = new int[width * height];
    for (int i = 0; i < pixels.length; i++) {
      int rgb = 0;
      for (int c = 0; c < 3; c++) {
        double v = (canvas[i * 3 + c] - 128) * contrast + 128 + brightness + (random.nextDouble() * 2 - 1) * 6;
        rgb = rgb << 8 | clamp255(v);
      }
      pixels[i] = rgb;
    }
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    image.setRGB(0, 0, width, height, pixels, 0, width);
    float quality = 0.6f + 0.3f * (float) random.nextDouble();
    Box productBox = box[2] < box[0]
        ? new Box(width / 2, height / 2, width / 2 + 1, height / 2 + 1)   // an empty item: no box to find
        : new Box(Math.max(0, box[0]), Math.max(0, box[1]), Math.min(width, box[2] + 1), Math.min(height, box[3] + 1));
    return new Photo(item, catalogue.label(item), jpeg(image, quality), width, height, productBox);
  }

  // Value noise blended between two colours, stripes or checks; every kind with fine grain.
  private static void paintBackground(float[] canvas, int width, int height, SplittableRandom random) {
    float[] a = randomColour(random);
    float[] b = randomColour(random);
    int kind = random.nextInt(3);
    ValueNoise coarse = new ValueNoise(random, 24 + random.nextInt(40));
    ValueNoise fine = new ValueNoise(random, 4 + random.nextInt(6));
    double period = 8 + random.nextInt(24);
    double theta = random.nextDouble() * Math.PI;
    double cos = Math.cos(theta);
    double sin = Math.sin(theta);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        double t = switch (kind) {
          case 0 -> coarse.at(x, y);
          case 1 -> 0.5 + 0.5 * Math.sin(2 * Math.PI * (x * cos + y * sin) / period);
          default -> ((Math.floorDiv(x, (int) period) + Math.floorDiv(y, (int) period)) & 1) * 0.8 + 0.1;
        };
        t = 0.8 * t + 0.2 * fine.at(x, y);
        int o = (y * width + x) * 3;
        for (int c = 0; c < 3; c++) {
          canvas[o + c] = (float) (a[c] * (1 - t) + b[c] * t);
        }
      }
    }
  }

  /**
   * Draws a 28x28 item (ink 0..255) tinted, scaled by {@code scale}, rotated by {@code angle}
   * around its centre, which lands at ({@code cx}, {@code cy}); ink is both the item's shading
   * and, up to {@link #OPAQUE_INK}, its opacity. Extends {@code box} (x0, y0, x1, y1 inclusive) by
   * every pixel drawn at least half opaque, when given.
   */
  private static void drawItem(float[] canvas, int width, int height, byte[] ink, float[] tint, double scale,
      double angle, double cx, double cy, SplittableRandom random, int[] box) {
    double cos = Math.cos(angle);
    double sin = Math.sin(angle);
    double half = FashionMnist.ROWS / 2.0;
    double reach = half * scale * Math.sqrt(2) + 2;
    int x0 = Math.max(0, (int) Math.floor(cx - reach));
    int x1 = Math.min(width - 1, (int) Math.ceil(cx + reach));
    int y0 = Math.max(0, (int) Math.floor(cy - reach));
    int y1 = Math.min(height - 1, (int) Math.ceil(cy + reach));
    // Light falls from one side: a gentle gradient across the item.
    double lightAngle = random.nextDouble() * 2 * Math.PI;
    double lx = Math.cos(lightAngle) * 0.15 / (half * scale);
    double ly = Math.sin(lightAngle) * 0.15 / (half * scale);
    for (int y = y0; y <= y1; y++) {
      for (int x = x0; x <= x1; x++) {
        double dx = x + 0.5 - cx;
        double dy = y + 0.5 - cy;
        // Inverse rotation and scale into the item's pixel grid (centres at i + 0.5).
        double u = (cos * dx + sin * dy) / scale + half - 0.5;
        double v = (-sin * dx + cos * dy) / scale + half - 0.5;
        double value = bilinear(ink, u, v) / 255.0;
        double alpha = Math.min(1.0, value / OPAQUE_INK);
        if (alpha <= 0) {
          continue;
        }
        double light = 1 + lx * dx + ly * dy;
        double shade = (0.2 + 0.8 * value) * light;
        int o = (y * width + x) * 3;
        for (int c = 0; c < 3; c++) {
          canvas[o + c] = (float) (canvas[o + c] * (1 - alpha) + tint[c] * shade * alpha);
        }
        if (box != null && alpha >= 0.5) {
          box[0] = Math.min(box[0], x);
          box[1] = Math.min(box[1], y);
          box[2] = Math.max(box[2], x);
          box[3] = Math.max(box[3], y);
        }
      }
    }
  }

  private static double bilinear(byte[] ink, double u, double v) {
    int n = FashionMnist.ROWS;
    if (u < -1 || v < -1 || u > n || v > n) {
      return 0;
    }
    int iu = (int) Math.floor(u);
    int iv = (int) Math.floor(v);
    double fu = u - iu;
    double fv = v - iv;
    return (1 - fv) * ((1 - fu) * ink(ink, iu, iv) + fu * ink(ink, iu + 1, iv))
        + fv * ((1 - fu) * ink(ink, iu, iv + 1) + fu * ink(ink, iu + 1, iv + 1));
  }

  private static int ink(byte[] ink, int x, int y) {
    int n = FashionMnist.ROWS;
    return x < 0 || y < 0 || x >= n || y >= n ? 0 : ink[y * n + x] & 0xFF;
  }

  // A product colour: any hue, mid to high saturation, bright enough to be seen.
  private static float[] randomTint(SplittableRandom random) {
    return hsv(random.nextDouble(), 0.3 + 0.6 * random.nextDouble(), 0.65 + 0.35 * random.nextDouble());
  }

  private static float[] randomColour(SplittableRandom random) {
    return hsv(random.nextDouble(), random.nextDouble() * 0.8, 0.15 + 0.85 * random.nextDouble());
  }

  private static float[] hsv(double h, double s, double v) {
    double c = v * s;
    double hp = h * 6;
    double x = c * (1 - Math.abs(hp % 2 - 1));
    double[] rgb = switch ((int) hp % 6) {
      case 0 -> new double[] {c, x, 0};
      case 1 -> new double[] {x, c, 0};
      case 2 -> new double[] {0, c, x};
      case 3 -> new double[] {0, x, c};
      case 4 -> new double[] {x, 0, c};
      default -> new double[] {c, 0, x};
    };
    double m = v - c;
    return new float[] {(float) ((rgb[0] + m) * 255), (float) ((rgb[1] + m) * 255), (float) ((rgb[2] + m) * 255)};
  }

  /** Smooth noise in 0..1: random values on a grid of {@code cell} px, bilinearly interpolated. */
  private static final class ValueNoise {
    private static final int GRID = 32;
    private final float[] values = new float[GRID * GRID];
    private final double cell;

    ValueNoise(SplittableRandom random, double cell) {
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) random.nextDouble();
      }
      this.cell = cell;
    }

    double at(int x, int y) {
      double gx = x / cell;
      double gy = y / cell;
      int ix = (int) Math.floor(gx);
      int iy = (int) Math.floor(gy);
      double fx = smooth(gx - ix);
      double fy = smooth(gy - iy);
      return (1 - fy) * ((1 - fx) * value(ix, iy) + fx * value(ix + 1, iy))
          + fy * ((1 - fx) * value(ix, iy + 1) + fx * value(ix + 1, iy + 1));
    }

    private float value(int x, int y) {
      return values[Math.floorMod(y, GRID) * GRID + Math.floorMod(x, GRID)];
    }

    private static double smooth(double t) {
      return t * t * (3 - 2 * t);
    }
  }

  private static int clamp255(double v) {
    return (int) Math.max(0, Math.min(255, Math.round(v)));
  }

  // SplitMix64-style mixing, so neighbouring (query, item) pairs get unrelated streams.
  private static long mix(long seed, int query, int item) {
    long z = seed + 0x9E3779B97F4A7C15L * (1 + query) + 0xC2B2AE3D27D4EB4FL * (1 + item);
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  static byte[] jpeg(BufferedImage image, float quality) {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    if (!writers.hasNext()) {
      throw new IllegalStateException("no JPEG writer in this JDK");
    }
    ImageWriter writer = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 * 1024);
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(quality);
      writer.write(null, new IIOImage(image, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException("JPEG encoding failed", e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }
}
