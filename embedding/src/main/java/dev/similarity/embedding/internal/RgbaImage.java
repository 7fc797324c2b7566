package dev.similarity.embedding.internal;

import dev.similarity.embedding.ImageMetadata;
import java.awt.image.BufferedImage;
import java.util.Set;

/**
 * A decoded image as 8-bit display values, upright (as shown, EXIF orientation applied): either
 * one gray plane or packed ARGB, with optional alpha. Gray images stay gray so that a grayscale
 * model reads the stored values untouched.
 */
public final class RgbaImage {

  /** Where display pixel (x, y) of a remapped image comes from: an index into the source's pixels. */
  @FunctionalInterface
  interface SourceIndex {
    int of(int x, int y);
  }

  private final int width;
  private final int height;
  private final byte[] gray;
  private final byte[] grayAlpha;
  private final int[] argb;
  private final boolean hasAlpha;
  private final Set<ImageMetadata> ignoredMetadata;

  private RgbaImage(int width, int height, byte[] gray, byte[] grayAlpha, int[] argb, boolean hasAlpha,
      Set<ImageMetadata> ignoredMetadata) {
    this.width = width;
    this.height = height;
    this.gray = gray;
    this.grayAlpha = grayAlpha;
    this.argb = argb;
    this.hasAlpha = hasAlpha;
    this.ignoredMetadata = ignoredMetadata;
  }

  static RgbaImage gray(int width, int height, byte[] gray, byte[] alpha) {
    return new RgbaImage(width, height, gray, alpha, null, alpha != null, Set.of());
  }

  static RgbaImage argb(int width, int height, int[] argb, boolean hasAlpha) {
    return new RgbaImage(width, height, null, null, argb, hasAlpha, Set.of());
  }

  /** This image, marked with the damaged metadata blocks its decoder ignored. */
  RgbaImage withIgnoredMetadata(Set<ImageMetadata> ignored) {
    return new RgbaImage(width, height, gray, grayAlpha, argb, hasAlpha, Set.copyOf(ignored));
  }

  /**
   * A {@code newWidth x newHeight} image whose pixel (x, y) is this image's pixel
   * {@code source.of(x, y)} ({@code y * width + x} numbering); every index must be in range.
   */
  RgbaImage remap(int newWidth, int newHeight, SourceIndex source) {
    int n = newWidth * newHeight;
    byte[] newGray = gray == null ? null : new byte[n];
    byte[] newAlpha = grayAlpha == null ? null : new byte[n];
    int[] newArgb = argb == null ? null : new int[n];
    for (int y = 0, i = 0; y < newHeight; y++) {
      for (int x = 0; x < newWidth; x++, i++) {
        int from = source.of(x, y);
        if (newArgb != null) {
          newArgb[i] = argb[from];
        } else {
          newGray[i] = gray[from];
          if (newAlpha != null) {
            newAlpha[i] = grayAlpha[from];
          }
        }
      }
    }
    return new RgbaImage(newWidth, newHeight, newGray, newAlpha, newArgb, hasAlpha, ignoredMetadata);
  }

  public int width() {
    return width;
  }

  public int height() {
    return height;
  }

  public boolean isGray() {
    return gray != null;
  }

  public boolean hasAlpha() {
    return hasAlpha;
  }

  /**
   * The image's damaged metadata blocks that the decoder ignored (see {@link ImageMetadata} for
   * each fallback); empty for most images. Unmodifiable.
   */
  public Set<ImageMetadata> ignoredMetadata() {
    return ignoredMetadata;
  }

  /** Red, green, blue (0..255) of pixel {@code i = y * width + x}; gray images repeat the gray value. */
  int red(int i) {
    return gray != null ? gray[i] & 0xFF : (argb[i] >>> 16) & 0xFF;
  }

  int green(int i) {
    return gray != null ? gray[i] & 0xFF : (argb[i] >>> 8) & 0xFF;
  }

  int blue(int i) {
    return gray != null ? gray[i] & 0xFF : argb[i] & 0xFF;
  }

  /** Opacity 0..255 of pixel {@code i}; 255 when the image has no alpha. */
  int alpha(int i) {
    if (!hasAlpha) {
      return 255;
    }
    return gray != null ? grayAlpha[i] & 0xFF : argb[i] >>> 24;
  }

  /** Luminance 0..255 (ITU-R BT.601 weights, rounded); exactly the stored value for gray images. */
  int luminance(int i) {
    if (gray != null) {
      return gray[i] & 0xFF;
    }
    int p = argb[i];
    return (299 * ((p >>> 16) & 0xFF) + 587 * ((p >>> 8) & 0xFF) + 114 * (p & 0xFF) + 500) / 1000;
  }

  /**
   * This image as an opaque RGB {@link BufferedImage} of display values, alpha laid over gray
   * level {@code background} (0..255) as the model's input would show it.
   */
  public BufferedImage toRgb(int background) {
    int[] rgb = new int[width * height];
    for (int i = 0; i < rgb.length; i++) {
      int a = alpha(i);
      rgb[i] = over(red(i), a, background) << 16 | over(green(i), a, background) << 8 | over(blue(i), a, background);
    }
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    out.setRGB(0, 0, width, height, rgb, 0, width);
    return out;
  }

  private static int over(int value, int alpha, int background) {
    return alpha == 255 ? value : Math.round((value * alpha + background * (255 - alpha)) / 255f);
  }
}
