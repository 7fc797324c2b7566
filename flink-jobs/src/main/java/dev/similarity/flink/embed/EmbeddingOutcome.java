package dev.similarity.flink.embed;

import dev.similarity.flink.event.ProductChange;

/**
 * What fetch-and-embed made of one change: a vector, a pass-through removal, or a failure with its
 * dead-letter reason. Failures are values, not exceptions, so one bad image never fails the job.
 *
 * @param retryAfterMillis for a retryable failure, the delay the server asked for (Retry-After), else -1
 */
public record EmbeddingOutcome(
        ProductChange change,
        float[] vector,
        String contentHash,
        String failureReason,
        String failureMessage,
        String failureClass,
        String failureStage,
        boolean retryable,
        long retryAfterMillis) {

    public static EmbeddingOutcome embedded(ProductChange change, float[] vector, String contentHash) {
        return new EmbeddingOutcome(change, vector, contentHash, null, null, null, null, false, -1);
    }

    public static EmbeddingOutcome removal(ProductChange change) {
        return new EmbeddingOutcome(change, null, null, null, null, null, null, false, -1);
    }

    public static EmbeddingOutcome failed(ProductChange change, String stage, String reason, String message,
                                          Throwable error, boolean retryable) {
        return failed(change, stage, reason, message, error, retryable, -1);
    }

    public static EmbeddingOutcome failed(ProductChange change, String stage, String reason, String message,
                                          Throwable error, boolean retryable, long retryAfterMillis) {
        return new EmbeddingOutcome(change, null, null, reason, message,
                error == null ? null : error.getClass().getName(), stage, retryable, retryAfterMillis);
    }

    public boolean isFailure() {
        return failureReason != null;
    }
}
