package dev.similarity.index;

import java.util.Objects;

/**
 * A product's embedding as handed to {@link ShardIndex#bulkLoad}.
 *
 * @param productId the product's id (not blank)
 * @param vector the L2-normalised embedding, of the index's dimension
 * @param category an exact-match category for filtered searches, or {@code null} for none
 * @param imageUrl where the product's image is, stored for snapshot readers, or {@code null}
 */
public record ProductVector(String productId, float[] vector, String category, String imageUrl) {
  public ProductVector {
    Objects.requireNonNull(productId, "productId");
    Objects.requireNonNull(vector, "vector");
  }

  /** A product without a known image URL. */
  public ProductVector(String productId, float[] vector, String category) {
    this(productId, vector, category, null);
  }
}
