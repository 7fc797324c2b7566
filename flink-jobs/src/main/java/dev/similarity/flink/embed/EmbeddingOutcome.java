package dev.similarity.flink.embed;

import dev.similarity.flink.event.ProductChange;

import java.io.Serializable;
import java.util.Collection;
import java.util.function.Predicate;

/**
 * What fetch-and-embed made of one change: a vector, a pass-through removal, or a failure with its
 * dead-letter reason. Failures are values, not exceptions, so one bad image never fails the job.
 */
public record EmbeddingOutcome(
        ProductChange change,
        float[] vector,
        String contentHash,
        String failureReason,
        String failureMessage,
        String failureClass,
        String failureStage,
        boolean retryable) {

    public static EmbeddingOutcome embedded(ProductChange change, float[] vector, String contentHash) {
        return new EmbeddingOutcome(change, vector, contentHash, null, null, null, null, false);
    }

    public static EmbeddingOutcome removal(ProductChange change) {
        return new EmbeddingOutcome(change, null, null, null, null, null, null, false);
    }

    public static EmbeddingOutcome failed(ProductChange change, String stage, String reason, String message,
                                          Throwable error, boolean retryable) {
        return new EmbeddingOutcome(change, null, null, reason, message,
                error == null ? null : error.getClass().getName(), stage, retryable);
    }

    public boolean isFailure() {
        return failureReason != null;
    }

    /** The async operator's retry predicate: a batch of outcomes with a transient failure is retried. */
    public static final class AnyRetryable implements Predicate<Collection<EmbeddingOutcome>>, Serializable {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean test(Collection<EmbeddingOutcome> outcomes) {
            return outcomes.stream().anyMatch(EmbeddingOutcome::retryable);
        }
    }
}
