package dev.similarity.embedding;

/**
 * How pixel values are interpolated when an image is scaled to the model's input size.
 */
public enum Resampling {
  /**
   * Each output pixel is the area-weighted average of the source pixels it covers when shrinking,
   * and linearly interpolated at pixel centres when growing. Keeps fine detail from aliasing; the
   * default, and what the committed Fashion-MNIST model was trained with.
   */
  AREA,
  /**
   * TensorFlow's {@code resize_bilinear} with {@code align_corners=true}: output sample {@code i}
   * is read at source position {@code i * (in - 1) / (out - 1)}, interpolated linearly between the
   * two nearest source pixels, so the corner pixels map onto each other. What TF.js
   * {@code tf.image.resizeBilinear(image, size, true)} does, and so what nsfwjs feeds its models;
   * shrinking by more than 2x skips source pixels (aliasing).
   */
  BILINEAR_ALIGN_CORNERS
}
