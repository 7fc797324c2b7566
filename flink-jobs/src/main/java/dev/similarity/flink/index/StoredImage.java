package dev.similarity.flink.index;

/**
 * A distinct image as its owner shard stores it: the generation it was indexed in (an image whose
 * last product left and that comes back later is a new generation), its vector, and the product
 * that represents it in other products' lists (the one that has shown it longest).
 */
public record StoredImage(long generation, float[] vector, String representative) {}
