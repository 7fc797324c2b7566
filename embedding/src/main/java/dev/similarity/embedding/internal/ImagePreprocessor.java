package dev.similarity.embedding.internal;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.ResizePolicy;
import dev.similarity.embedding.Resampling;

/**
 * Turns a decoded image into the model's input values: alpha laid over the pad colour, channels
 * reduced to luminance or ordered RGB/BGR, fitted to the input size by the descriptor's
 * {@link ResizePolicy}, then normalised.
 *
 * <p>Resampling is separable. With {@link Resampling#AREA} each axis shrinks with an area average
 * (every source pixel weighed by how much of it the output pixel covers) and grows with linear
 * interpolation. With {@link Resampling#BILINEAR_ALIGN_CORNERS} each output sample is read at
 * {@code start + i * (extent - 1) / (out - 1)} and interpolated between its two neighbours, as
 * TensorFlow's {@code resize_bilinear(align_corners=true)}. Either way, at scale 1 with an integer
 * offset the weights are exactly 1, so an image of the model's own size passes through unchanged.
 * Thread-safe.
 */
public final class ImagePreprocessor {

  private final int height;
  private final int width;
  private final int channels;
  private final boolean bgr;
  private final ResizePolicy policy;
  private final Resampling resampling;
  private final int padValue;
  private final PixelNormaliser normaliser;

  public ImagePreprocessor(EmbeddingModelDescriptor descriptor) {
    this.height = descriptor.inputHeight();
    this.width = descriptor.inputWidth();
    this.channels = descriptor.inputChannels();
    this.bgr = descriptor.channelOrder().equals("BGR");
    this.policy = descriptor.resizePolicy();
    this.resampling = descriptor.resampling();
    this.padValue = descriptor.padValue();
    this.normaliser = new PixelNormaliser(descriptor.normalisation());
  }

  /** Number of floats of one prepared image: H x W x C. */
  public int valuesPerImage() {
    return height * width * channels;
  }

  /** The model input of {@code image}, HWC. */
  public float[] prepare(RgbaImage image) {
    float[] out = new float[valuesPerImage()];
    prepareInto(image, out, 0);
    return out;
  }

  /** Writes the model input of {@code image} into {@code out} from {@code offset}, HWC. */
  public void prepareInto(RgbaImage image, float[] out, int offset) {
    int w = image.width();
    int h = image.height();
    float[][] planes = planes(image);

    Placement p = place(w, h);
    Axis xs = axis(w, p.sourceX, p.sourceWidth, p.contentWidth);
    Axis ys = axis(h, p.sourceY, p.sourceHeight, p.contentHeight);
    float[] rows = new float[h * p.contentWidth];
    for (int c = 0; c < channels; c++) {
      float[] src = planes[c];
      // Horizontal pass: h rows of contentWidth samples.
      for (int y = 0; y < h; y++) {
        xs.resample(src, y * w, 1, rows, y * p.contentWidth, 1);
      }
      // Vertical pass straight into the output, with the pad value around the content.
      float pad = normaliser.apply(padValue, c);
      for (int y = 0; y < height; y++) {
        for (int x = 0; x < width; x++) {
          out[offset + (y * width + x) * channels + c] = pad;
        }
      }
      float[] column = new float[p.contentHeight];
      for (int x = 0; x < p.contentWidth; x++) {
        ys.resample(rows, x, p.contentWidth, column, 0, 1);
        for (int y = 0; y < p.contentHeight; y++) {
          int target = ((p.offsetY + y) * width + p.offsetX + x) * channels + c;
          out[offset + target] = normaliser.apply(column[y], c);
        }
      }
    }
  }

  // Display values per model channel, alpha composited over the pad colour.
  private float[][] planes(RgbaImage image) {
    int n = image.width() * image.height();
    float[][] planes = new float[channels][n];
    boolean alpha = image.hasAlpha();
    for (int i = 0; i < n; i++) {
      int a = alpha ? image.alpha(i) : 255;
      if (channels == 1) {
        planes[0][i] = over(image.luminance(i), a);
      } else {
        float r = over(image.red(i), a);
        float g = over(image.green(i), a);
        float b = over(image.blue(i), a);
        planes[0][i] = bgr ? b : r;
        planes[1][i] = g;
        planes[2][i] = bgr ? r : b;
      }
    }
    return planes;
  }

  private float over(int value, int alpha) {
    if (alpha == 255) {
      return value;
    }
    return (value * alpha + padValue * (255 - alpha)) / 255f;
  }

  /** Which source rectangle lands on which part of the input. */
  private record Placement(double sourceX, double sourceY, double sourceWidth, double sourceHeight,
      int offsetX, int offsetY, int contentWidth, int contentHeight) {}

  private Axis axis(int sourceLength, double sourceStart, double sourceExtent, int targetLength) {
    return resampling == Resampling.BILINEAR_ALIGN_CORNERS
        ? Axis.alignCorners(sourceLength, sourceStart, sourceExtent, targetLength)
        : Axis.of(sourceLength, sourceStart, sourceExtent, targetLength);
  }

  private Placement place(int w, int h) {
    if (policy == ResizePolicy.STRETCH) {
      return new Placement(0, 0, w, h, 0, 0, width, height);
    }
    if (policy == ResizePolicy.LETTERBOX) {
      double scale = Math.min((double) width / w, (double) height / h);
      int cw = clamp((int) Math.round(w * scale), width);
      int ch = clamp((int) Math.round(h * scale), height);
      return new Placement(0, 0, w, h, (width - cw) / 2, (height - ch) / 2, cw, ch);
    }
    double scale = Math.max((double) width / w, (double) height / h);
    double sw = Math.min(w, width / scale);
    double sh = Math.min(h, height / scale);
    return new Placement((w - sw) / 2, (h - sh) / 2, sw, sh, 0, 0, width, height);
  }

  private static int clamp(int size, int max) {
    return Math.max(1, Math.min(max, size));
  }

  /**
   * Resampling weights of one axis: output sample {@code i} is the weighted sum of
   * {@code count[i]} source samples starting at {@code first[i]}.
   */
  private record Axis(int[] first, int[] count, float[][] weights) {

    static Axis of(int sourceLength, double sourceStart, double sourceExtent, int targetLength) {
      int[] first = new int[targetLength];
      int[] count = new int[targetLength];
      float[][] weights = new float[targetLength][];
      double step = sourceExtent / targetLength;
      for (int i = 0; i < targetLength; i++) {
        if (step >= 1.0) {
          // Area average over [lo, hi).
          double lo = sourceStart + i * step;
          double hi = lo + step;
          int j0 = (int) Math.floor(lo);
          int j1 = Math.min(sourceLength, (int) Math.ceil(hi));
          first[i] = j0;
          count[i] = j1 - j0;
          weights[i] = new float[j1 - j0];
          for (int j = j0; j < j1; j++) {
            double overlap = Math.min(hi, j + 1) - Math.max(lo, j);
            weights[i][j - j0] = (float) (overlap / step);
          }
        } else {
          // Linear interpolation at the output sample's centre.
          double x = sourceStart + (i + 0.5) * step - 0.5;
          x = Math.max(0, Math.min(sourceLength - 1, x));
          int j0 = (int) Math.floor(x);
          int j1 = Math.min(sourceLength - 1, j0 + 1);
          float t = (float) (x - j0);
          first[i] = j0;
          if (j1 == j0 || t == 0f) {
            count[i] = 1;
            weights[i] = new float[] {1f};
          } else {
            count[i] = 2;
            weights[i] = new float[] {1f - t, t};
          }
        }
      }
      return new Axis(first, count, weights);
    }

    /**
     * Samples at {@code start + i * (extent - 1) / (target - 1)} (the first and last samples land
     * on the first and last source pixels), linear between the two neighbours; one output sample
     * reads the first source pixel.
     */
    static Axis alignCorners(int sourceLength, double sourceStart, double sourceExtent, int targetLength) {
      int[] first = new int[targetLength];
      int[] count = new int[targetLength];
      float[][] weights = new float[targetLength][];
      double step = targetLength > 1 ? (sourceExtent - 1) / (targetLength - 1) : 0;
      for (int i = 0; i < targetLength; i++) {
        double x = Math.max(0, Math.min(sourceLength - 1, sourceStart + i * step));
        int j0 = (int) Math.floor(x);
        int j1 = Math.min(sourceLength - 1, j0 + 1);
        float t = (float) (x - j0);
        first[i] = j0;
        if (j1 == j0 || t == 0f) {
          count[i] = 1;
          weights[i] = new float[] {1f};
        } else {
          count[i] = 2;
          weights[i] = new float[] {1f - t, t};
        }
      }
      return new Axis(first, count, weights);
    }

    void resample(float[] src, int srcOffset, int srcStride, float[] dst, int dstOffset, int dstStride) {
      for (int i = 0; i < first.length; i++) {
        float[] w = weights[i];
        int base = srcOffset + first[i] * srcStride;
        float sum = 0f;
        for (int k = 0; k < count[i]; k++) {
          sum += w[k] * src[base + k * srcStride];
        }
        dst[dstOffset + i * dstStride] = sum;
      }
    }
  }
}
