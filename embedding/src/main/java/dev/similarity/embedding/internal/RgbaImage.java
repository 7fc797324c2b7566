package dev.similarity.embedding.internal;

/**
 * A decoded image as 8-bit display values: either one gray plane or packed ARGB, with optional
 * alpha. Gray images stay gray so that a grayscale model reads the stored values untouched.
 */
public final class RgbaImage {

  private final int width;
  private final int height;
  private final byte[] gray;
  private final byte[] grayAlpha;
  private final int[] argb;
  private final boolean hasAlpha;

  private RgbaImage(int width, int height, byte[] gray, byte[] grayAlpha, int[] argb, boolean hasAlpha) {
    this.width = width;
    this.height = height;
    this.gray = gray;
    this.grayAlpha = grayAlpha;
    this.argb = argb;
    this.hasAlpha = hasAlpha;
  }

  static RgbaImage gray(int width, int height, byte[] gray, byte[] alpha) {
    return new RgbaImage(width, height, gray, alpha, null, alpha != null);
  }

  static RgbaImage argb(int width, int height, int[] argb, boolean hasAlpha) {
    return new RgbaImage(width, height, null, null, argb, hasAlpha);
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
}
