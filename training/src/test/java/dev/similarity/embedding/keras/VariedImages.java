package dev.similarity.embedding.keras;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * A fixed set of PNG images for comparing two implementations of one network: colour, grey,
 * palette and alpha images, tiny to 800 pixels a side, square, wide and tall, drawn from a few
 * "product" families (one shape in one colour family on a plain or textured background) so that
 * nearest-neighbour lists over the set have structure. Deterministic: no antialiasing, seeded
 * noise. Every side stays below 4x the smallest model input (896 px), so the embedder decodes every
 * image at full resolution (no subsampling) as the TF.js reference does.
 */
final class VariedImages {

  private VariedImages() {}

  private record Spec(String name, int width, int height, int type, int family, int variant) {}

  private static final int RGB = BufferedImage.TYPE_INT_RGB;
  private static final int ARGB = BufferedImage.TYPE_INT_ARGB;
  private static final int GRAY = BufferedImage.TYPE_BYTE_GRAY;
  private static final int INDEXED = BufferedImage.TYPE_BYTE_INDEXED;

  private static final Spec[] SPECS = {
      new Spec("01-red-disc-rgb-299", 299, 299, RGB, 0, 0),
      new Spec("02-red-disc-rgb-640x480", 640, 480, RGB, 0, 1),
      new Spec("03-red-disc-alpha-333x251", 333, 251, ARGB, 0, 2),
      new Spec("04-red-disc-grey-200", 200, 200, GRAY, 0, 3),
      new Spec("05-blue-bar-rgb-224", 224, 224, RGB, 1, 0),
      new Spec("06-blue-bar-rgb-800x200", 800, 200, RGB, 1, 1),
      new Spec("07-blue-bar-palette-150x310", 150, 310, INDEXED, 1, 2),
      new Spec("08-blue-bar-alpha-97x53", 97, 53, ARGB, 1, 3),
      new Spec("09-green-tri-rgb-480x640", 480, 640, RGB, 2, 0),
      new Spec("10-green-tri-rgb-301x299", 301, 299, RGB, 2, 1),
      new Spec("11-green-tri-grey-123x777", 123, 777, GRAY, 2, 2),
      new Spec("12-green-tri-alpha-256", 256, 256, ARGB, 2, 3),
      new Spec("13-stripes-rgb-300x200", 300, 200, RGB, 3, 0),
      new Spec("14-stripes-grey-512x384", 512, 384, GRAY, 3, 1),
      new Spec("15-stripes-palette-64x64", 64, 64, INDEXED, 3, 2),
      new Spec("16-stripes-alpha-199x401", 199, 401, ARGB, 3, 3),
      new Spec("17-noise-rgb-320x240", 320, 240, RGB, 4, 0),
      new Spec("18-noise-grey-257x129", 257, 129, GRAY, 4, 1),
      new Spec("19-noise-rgb-33x47", 33, 47, RGB, 4, 2),
      new Spec("20-gradient-rgb-400x300", 400, 300, RGB, 5, 0),
      new Spec("21-gradient-alpha-300x400", 300, 400, ARGB, 5, 1),
      new Spec("22-gradient-palette-211x97", 211, 97, INDEXED, 5, 2),
      new Spec("23-tiny-rgb-3x5", 3, 5, RGB, 5, 3),
      new Spec("24-single-pixel-rgb-1x1", 1, 1, RGB, 0, 4),
  };

  /** The images as PNG bytes, by file name ({@code NN-description.png}), in name order. */
  static Map<String, byte[]> pngs() {
    Map<String, byte[]> out = new LinkedHashMap<>();
    for (Spec spec : SPECS) {
      out.put(spec.name() + ".png", png(draw(spec)));
    }
    return out;
  }

  private static BufferedImage draw(Spec s) {
    // Drawn in ARGB, then converted to the stored type (grey and palette lose colour on purpose).
    BufferedImage canvas = new BufferedImage(s.width(), s.height(), ARGB);
    Graphics2D g = canvas.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_OFF);
    SplittableRandom random = new SplittableRandom(1000L * s.family() + s.variant());
    int w = s.width();
    int h = s.height();
    Color background = s.variant() % 2 == 0 ? new Color(245, 245, 240) : new Color(200, 190, 170);
    g.setColor(background);
    g.fillRect(0, 0, w, h);
    float hue = switch (s.family()) {
      case 0 -> 0.0f;
      case 1 -> 0.62f;
      case 2 -> 0.33f;
      default -> 0.1f * s.variant();
    };
    Color main = Color.getHSBColor(hue + 0.03f * s.variant(), 0.75f, 0.85f - 0.1f * (s.variant() % 2));
    switch (s.family()) {
      case 0 -> {
        g.setColor(main);
        int d = (int) (Math.min(w, h) * 0.7);
        g.fillOval((w - d) / 2 + s.variant() * w / 40, (h - d) / 2, d, d);
      }
      case 1 -> {
        g.setColor(main);
        g.fillRect(w / 6, h / 3, w * 2 / 3, h / 3);
        g.setColor(main.darker());
        g.fillRect(w / 6, h / 3, w * 2 / 3, Math.max(1, h / 20));
      }
      case 2 -> {
        g.setColor(main);
        g.fillPolygon(new int[] {w / 2, w / 8, w * 7 / 8}, new int[] {h / 8, h * 7 / 8, h * 7 / 8}, 3);
      }
      case 3 -> {
        int period = 8 + 6 * s.variant();
        for (int x = 0; x < w; x += period) {
          g.setColor(Color.getHSBColor(0.15f * (x / period % 5), 0.6f, 0.9f));
          g.fillRect(x, 0, period / 2, h);
        }
      }
      case 4 -> {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            canvas.setRGB(x, y, 0xFF000000 | random.nextInt(0x1000000));
          }
        }
      }
      default -> {
        for (int y = 0; y < h; y++) {
          for (int x = 0; x < w; x++) {
            int r = 255 * x / Math.max(1, w - 1);
            int gr = 255 * y / Math.max(1, h - 1);
            canvas.setRGB(x, y, 0xFF000000 | r << 16 | gr << 8 | (255 - r) / (1 + s.variant()));
          }
        }
      }
    }
    g.dispose();
    if (s.type() == ARGB) {
      // Alpha: opaque centre fading to fully transparent corners, plus a transparent hole.
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          double dx = (x - w / 2.0) / (w / 2.0);
          double dy = (y - h / 2.0) / (h / 2.0);
          int alpha = (int) Math.max(0, Math.min(255, 255 * (1.4 - Math.hypot(dx, dy))));
          if (Math.abs(dx) < 0.1 && Math.abs(dy) < 0.1) {
            alpha = 0;
          }
          canvas.setRGB(x, y, (canvas.getRGB(x, y) & 0xFFFFFF) | alpha << 24);
        }
      }
      return canvas;
    }
    BufferedImage stored = s.type() == INDEXED
        ? new BufferedImage(w, h, INDEXED, palette())
        : new BufferedImage(w, h, s.type());
    if (s.type() == GRAY) {
      // Luminance written straight into the raster: Graphics2D would treat grey as linear light.
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          int rgb = canvas.getRGB(x, y);
          int lum = (int) Math.round(0.299 * (rgb >> 16 & 0xFF) + 0.587 * (rgb >> 8 & 0xFF) + 0.114 * (rgb & 0xFF));
          stored.getRaster().setSample(x, y, 0, lum);
        }
      }
      return stored;
    }
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        stored.setRGB(x, y, canvas.getRGB(x, y));
      }
    }
    return stored;
  }

  // 6x6x6 colour cube: palette images quantise colours the way GIF-era catalogues did.
  private static IndexColorModel palette() {
    byte[] r = new byte[216];
    byte[] g = new byte[216];
    byte[] b = new byte[216];
    for (int i = 0; i < 216; i++) {
      r[i] = (byte) (i / 36 * 51);
      g[i] = (byte) (i / 6 % 6 * 51);
      b[i] = (byte) (i % 6 * 51);
    }
    return new IndexColorModel(8, 216, r, g, b);
  }

  private static byte[] png(BufferedImage image) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(image, "png", out)) {
        throw new IllegalStateException("no PNG writer for image type " + image.getType());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
