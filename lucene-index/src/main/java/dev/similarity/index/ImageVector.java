package dev.similarity.index;

import java.util.Objects;

/**
 * A shared image's embedding as handed to {@link ShardIndex#bulkLoadImages}: one HNSW node that
 * stands for every product showing the image.
 *
 * @param imageKey the image's key (from its content hash), not blank
 * @param vector the L2-normalised embedding, of the index's dimension
 */
public record ImageVector(String imageKey, float[] vector) {
  public ImageVector {
    Objects.requireNonNull(imageKey, "imageKey");
    Objects.requireNonNull(vector, "vector");
  }
}
