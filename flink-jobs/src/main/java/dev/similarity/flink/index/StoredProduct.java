package dev.similarity.flink.index;

/**
 * The indexed state of one product: its newest vector and what produced it. {@code imageUrl} is the URL the
 * vector's image bytes were first indexed under (a new URL with the same bytes is not re-indexed).
 */
public record StoredProduct(long catalogueVersion, float[] vector, String category, String imageUrl, String contentHash) {}
