package dev.similarity.embedding.internal;

/**
 * The eight values of the EXIF/TIFF Orientation tag (274), which say how the stored pixels must
 * be turned to be shown upright. Value {@code v} names where the stored image's 0th row and 0th
 * column are seen:
 *
 * <pre>
 * v  0th row   0th column   shown = stored ...
 * 1  top       left         as is
 * 2  top       right        mirrored left-right
 * 3  bottom    right        turned 180 degrees
 * 4  bottom    left         mirrored top-bottom
 * 5  left      top          transposed (mirrored about the main diagonal)
 * 6  right     top          turned 90 degrees clockwise
 * 7  right     bottom       transversed (mirrored about the other diagonal)
 * 8  left      bottom       turned 90 degrees counter-clockwise
 * </pre>
 *
 * Values 5 to 8 swap width and height. Browsers apply the tag by default (CSS
 * {@code image-orientation: from-image}), so a shopper sees the upright image.
 */
final class ExifOrientation {

  /** No transformation. */
  static final int NORMAL = 1;

  private ExifOrientation() {}

  /** True for the values the tag may hold, 1 to 8. */
  static boolean isValid(int orientation) {
    return orientation >= 1 && orientation <= 8;
  }

  /** True when the upright image is the stored one with width and height swapped (5 to 8). */
  static boolean swapsAxes(int orientation) {
    return orientation >= 5 && orientation <= 8;
  }

  /**
   * The upright image of {@code stored}, which was read as stored.
   *
   * @param orientation 1 to 8
   * @throws IllegalArgumentException for any other value
   */
  static RgbaImage upright(RgbaImage stored, int orientation) {
    int w = stored.width();
    int h = stored.height();
    // Each case gives the stored (column, row) shown at display (x, y).
    return switch (orientation) {
      case 1 -> stored;
      case 2 -> stored.remap(w, h, (x, y) -> y * w + (w - 1 - x));
      case 3 -> stored.remap(w, h, (x, y) -> (h - 1 - y) * w + (w - 1 - x));
      case 4 -> stored.remap(w, h, (x, y) -> (h - 1 - y) * w + x);
      case 5 -> stored.remap(h, w, (x, y) -> x * w + y);
      case 6 -> stored.remap(h, w, (x, y) -> (h - 1 - x) * w + y);
      case 7 -> stored.remap(h, w, (x, y) -> (h - 1 - x) * w + (w - 1 - y));
      case 8 -> stored.remap(h, w, (x, y) -> x * w + (w - 1 - y));
      default -> throw new IllegalArgumentException("EXIF orientation must be 1..8, was " + orientation);
    };
  }
}
