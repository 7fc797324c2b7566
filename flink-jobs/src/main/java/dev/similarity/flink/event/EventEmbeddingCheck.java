package dev.similarity.flink.event;

import dev.similarity.flink.internal.Sha256;
import dev.similarity.schemas.EmbeddingVectors;
import dev.similarity.schemas.ImageEmbedding;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Checks the embedding a catalogue event carries against the job's model: the model's qualified id
 * ({@code modelId@version}), its dimension, every value finite, not all zero. A passing vector is
 * L2-normalised (the embedder normalises the model's outputs the same way) and gets a content hash in
 * place of the image bytes' SHA-256 ({@link #contentHash}).
 */
public final class EventEmbeddingCheck implements Serializable {

    private static final long serialVersionUID = 1L;
    /** Dead-letter reasons ({@code DeadLetterReason} names). */
    public static final String MODEL_MISMATCH = "EMBEDDING_MODEL_MISMATCH";
    public static final String INVALID = "INVALID_EMBEDDING";
    /** Domain prefix: these hashes are of a vector, never of image bytes that happen to look the same. */
    private static final byte[] DOMAIN = "similarity:event-embedding:v1\0".getBytes(StandardCharsets.UTF_8);

    private final String modelId;
    private final int dimension;

    /** @param modelId the job model's qualified id, modelId@version; @param dimension its embedding dimension */
    public EventEmbeddingCheck(String modelId, int dimension) {
        this.modelId = modelId;
        this.dimension = dimension;
    }

    /** Either a checked embedding, or the dead-letter reason and a message naming the product, expected and actual. */
    public record Result(ProvidedEmbedding embedding, String reason, String message) {
        public boolean passed() {
            return embedding != null;
        }
    }

    public Result check(String productId, ImageEmbedding embedding) {
        String from = embedding.getModelId();
        if (!modelId.equals(from)) {
            return refused(MODEL_MISMATCH, "the embedding of product " + productId + " was computed by model '" + from
                    + "', but the job embeds with '" + modelId + "': vectors of different models are not comparable;"
                    + " send the event without an embedding (the job embeds its image) or with one of '" + modelId + "'");
        }
        ByteBuffer bytes = embedding.getVector();
        int length = bytes.remaining();
        if (length != dimension * Float.BYTES) {
            return refused(INVALID, "the embedding of product " + productId + " has " + length + " bytes"
                    + (length % Float.BYTES == 0 ? " (" + length / Float.BYTES + " float32 values)" : "")
                    + ", but model '" + modelId + "' has " + dimension + " dimensions: expected " + dimension * Float.BYTES
                    + " bytes of little-endian float32");
        }
        float[] vector = EmbeddingVectors.fromBytes(bytes);
        double squares = 0;
        for (int i = 0; i < vector.length; i++) {
            if (!Float.isFinite(vector[i])) {
                return refused(INVALID, "the embedding of product " + productId + " has " + vector[i] + " at index " + i
                        + ": every value must be finite");
            }
            squares += (double) vector[i] * vector[i];
        }
        if (squares == 0) {
            return refused(INVALID, "the embedding of product " + productId + " is all zeros: it has no direction to compare");
        }
        double norm = Math.sqrt(squares);
        for (int i = 0; i < vector.length; i++) {
            vector[i] = (float) (vector[i] / norm);
        }
        return new Result(new ProvidedEmbedding(vector, contentHash(modelId, vector)), null, null);
    }

    /**
     * What stands for the image bytes' SHA-256 when only a vector came: the SHA-256 of a fixed domain
     * prefix, the model id and the normalised vector's float32 bits (little-endian). The image's key is
     * then a function of its vector, so an image's vector never changes under one key, and products sent
     * with the same vector share one image as products with the same bytes do.
     */
    public static String contentHash(String modelId, float[] normalised) {
        byte[] model = modelId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer input = ByteBuffer.allocate(DOMAIN.length + 4 + model.length + normalised.length * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        input.put(DOMAIN).putInt(model.length).put(model);
        for (float value : normalised) {
            input.putInt(Float.floatToIntBits(value));
        }
        return Sha256.hex(input.array());
    }

    private static Result refused(String reason, String message) {
        return new Result(null, reason, message);
    }
}
