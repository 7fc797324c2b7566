package dev.similarity.flink.index;

/**
 * What the job knows of a product's current image: the catalogue version that set it, its category,
 * the URL its bytes were first indexed under (a new URL with the same bytes is not re-indexed) and
 * the image's key (its content hash, see {@link ImageKeys}).
 */
public record StoredProduct(long catalogueVersion, String category, String imageUrl, String imageKey) {}
