package dev.similarity.index;

import java.util.Objects;

/**
 * A product that shows a shared image (see {@link ShardIndex#putMember}).
 *
 * @param productId the product's id, not blank
 * @param imageKey the key of the image node it belongs to
 * @param sequence the order in which the image's members joined; the member with the lowest is the
 *     image's representative, the product that other products' lists and searches name for it
 * @param category the product's exact-match category, or {@code null}
 * @param imageUrl where the product's image is, or {@code null}
 */
public record ImageMember(
    String productId, String imageKey, long sequence, String category, String imageUrl) {
  public ImageMember {
    Objects.requireNonNull(productId, "productId");
    Objects.requireNonNull(imageKey, "imageKey");
    if (productId.isBlank() || imageKey.isBlank()) {
      throw new IllegalArgumentException(
          "member '" + productId + "' of image '" + imageKey + "': ids must not be blank");
    }
  }
}
