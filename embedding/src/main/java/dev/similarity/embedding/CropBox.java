package dev.similarity.embedding;

/**
 * A rectangle of an image in pixels: {@code [x0, x1) x [y0, y1)}, never empty.
 *
 * @throws IllegalArgumentException (constructor) when {@code x1 <= x0} or {@code y1 <= y0}
 */
public record CropBox(int x0, int y0, int x1, int y1) {

  public CropBox {
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
  public double iou(CropBox other) {
    long ix = Math.max(0, Math.min(x1, other.x1) - Math.max(x0, other.x0));
    long iy = Math.max(0, Math.min(y1, other.y1) - Math.max(y0, other.y0));
    long inter = ix * iy;
    long union = (long) width() * height() + (long) other.width() * other.height() - inter;
    return (double) inter / union;
  }
}
