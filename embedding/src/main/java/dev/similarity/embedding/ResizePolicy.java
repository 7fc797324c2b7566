package dev.similarity.embedding;

/**
 * How an image of any size becomes the model's fixed input size. {@code LETTERBOX} and
 * {@code CENTER_CROP} keep the aspect ratio; {@code STRETCH} does not.
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
  CENTER_CROP,
  /**
   * Scale each axis on its own so that the whole image fills the whole input: nothing is cut off
   * and there are no bands, but non-square images are distorted. What TF.js models that resize
   * straight to their input size (nsfwjs) were fed.
   */
  STRETCH
}
