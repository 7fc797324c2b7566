package dev.similarity.embedding;

/**
 * How an image of any size becomes the model's fixed input size. Both keep the aspect ratio, so
 * shapes are never stretched.
 */
public enum ResizePolicy {
  /**
   * Scale the whole image to fit inside the input, centred, and fill the remaining bands with the
   * descriptor's {@code padValue}. Nothing is cut off; small images are scaled up.
   */
  LETTERBOX,
  /**
   * Scale the image so that it covers the input, then cut the centre. Fills the input with
   * content but loses the overflowing edges of non-square images.
   */
  CENTER_CROP
}
