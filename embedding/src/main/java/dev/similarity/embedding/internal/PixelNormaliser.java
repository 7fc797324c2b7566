package dev.similarity.embedding.internal;

import dev.similarity.embedding.EmbeddingModelDescriptor.Normalisation;

/**
 * The descriptor's {@code (pixel * scale - mean[c]) / std[c]}. Training and serving both go through
 * this one method, so a model sees bit-for-bit the values it was trained on (Java float
 * arithmetic is IEEE-strict).
 */
public final class PixelNormaliser {

  private final float scale;
  private final float[] mean;
  private final float[] std;

  public PixelNormaliser(Normalisation normalisation) {
    this.scale = normalisation.scale();
    this.mean = normalisation.mean();
    this.std = normalisation.std();
  }

  /** The model value of a 0..255 {@code pixel} (possibly fractional after resizing) in {@code channel}. */
  public float apply(float pixel, int channel) {
    return (pixel * scale - mean[channel]) / std[channel];
  }
}
