package dev.similarity.flink.event;

/**
 * An embedding that came with its catalogue event, checked by {@link EventEmbeddingCheck}: the job's
 * model and dimension, finite, L2-normalised as the model's own outputs are.
 *
 * @param vector      unit length, the job model's dimension
 * @param contentHash SHA-256 (64 hex digits) standing for image bytes the job never saw: the image's key
 *                    is its first 128 bits, as for fetched images ({@link EventEmbeddingCheck#contentHash})
 */
public record ProvidedEmbedding(float[] vector, String contentHash) {}
