package dev.similarity.flink.index;

/** The indexed state of one product: its newest vector and what produced it. */
public record StoredProduct(long catalogueVersion, float[] vector, String category, String contentHash) {}
