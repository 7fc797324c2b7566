package dev.similarity.index;

import java.util.Objects;

/**
 * A product whose vector is an image node's, recorded in the shard of its own id (see {@link
 * ShardIndex#putProduct}), so readers find it there whichever shard holds its image.
 *
 * @param productId the product's id, not blank
 * @param imageKey the key of the image it shows
 * @param vector the image's L2-normalised embedding (stored, not indexed)
 * @param category the product's exact-match category, or {@code null}
 * @param imageUrl where the product's image is, or {@code null}
 */
public record ProductImage(String productId, String imageKey, float[] vector, String category, String imageUrl) {
  public ProductImage {
    Objects.requireNonNull(productId, "productId");
    Objects.requireNonNull(imageKey, "imageKey");
    Objects.requireNonNull(vector, "vector");
  }
}
