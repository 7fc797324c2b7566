package dev.similarity.embedding;

/**
 * An embedded photo and what {@link ObjectCrop} did to it first.
 *
 * @param vector unit length, {@link ImageEmbedder#dimension()} floats
 * @param crop what was cropped (requested and applied mode, outcome, box in the photo's upright
 *     pixels); null when no crop was asked for ({@link CropMode#OFF})
 */
public record PhotoEmbedding(float[] vector, ObjectCrop.Result crop) {}
