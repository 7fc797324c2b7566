package dev.similarity.embedding.internal;

import dev.similarity.embedding.EmbeddingModelDescriptor.Normalisation;

/**
 * The descriptor's {@code (pixel * scale - mean[c]) / std[c]} as a lookup table per channel.
 * Training and serving both go through this class, so a model sees exactly the values it was
 * trained on.
 */
public final class PixelNormaliser {

  private final float[][] table;

  public PixelNormaliser(Normalisation normalisation, int channels) {
    float[] mean = normalisation.mean();
    float[] std = normalisation.std();
    table = new float[channels][256];
    for (int c = 0; c < channels; c++) {
      for (int p = 0; p < 256; p++) {
        table[c][p] = (p * normalisation.scale() - mean[c]) / std[c];
      }
    }
  }

  /** The model value of 0..255 {@code pixel} in {@code channel}. */
  public float apply(int pixel, int channel) {
    return table[channel][pixel];
  }

  /** The lookup table of one channel (index = pixel value); do not modify. */
  float[] channelTable(int channel) {
    return table[channel];
  }
}
