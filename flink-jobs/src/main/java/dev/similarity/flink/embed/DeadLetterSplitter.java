package dev.similarity.flink.embed;

import dev.similarity.flink.deadletter.DeadLetterBudget;
import dev.similarity.flink.deadletter.DeadLetterRecord;
import dev.similarity.flink.event.ProductChange;
import dev.similarity.flink.event.RetryState;
import dev.similarity.flink.fetch.RetryBackoff;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.time.Duration;

/**
 * Routes fetch-and-embed outcomes: vectors and removals on; a transient failure to the fetch-retry
 * topic ({@link FetchRetry#TAG}) with its next attempt scheduled by {@link RetryBackoff}, while that
 * attempt falls within the retry horizon of the image's first failure; every other failure, and a
 * transient one past the horizon, to the dead letters. The retry state travels with the record, so
 * this function keeps none.
 */
public final class DeadLetterSplitter extends ProcessFunction<EmbeddingOutcome, EmbeddingOutcome> {

    private static final long serialVersionUID = 1L;

    private final RetryBackoff backoff;
    private final DeadLetterBudget budget;
    private transient Counter retriesScheduled;
    private transient Counter retriesExhausted;
    private transient Counter reembedFailures;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DeadLetterSplitter.class);

    /** @param budget the retry sink's request size: a record too large to travel whole is not retried */
    public DeadLetterSplitter(RetryBackoff backoff, DeadLetterBudget budget) {
        this.backoff = backoff;
        this.budget = budget;
    }

    @Override
    public void open(OpenContext openContext) {
        retriesScheduled = getRuntimeContext().getMetricGroup().counter("fetchRetriesScheduled");
        retriesExhausted = getRuntimeContext().getMetricGroup().counter("fetchRetriesExhausted");
        reembedFailures = getRuntimeContext().getMetricGroup().counter("modelUpgradeReembedFailures");
    }

    @Override
    public void processElement(EmbeddingOutcome outcome, Context ctx, Collector<EmbeddingOutcome> out) {
        if (!outcome.isFailure()) {
            out.collect(outcome);
            return;
        }
        ProductChange change = outcome.change();
        if (change.source() == null) {
            // A product the model upgrade re-embeds has no catalogue record to retry or dead-letter: the
            // upgrade waits for it until its next event (docs/operations.md, upgrade the model).
            reembedFailures.inc();
            LOG.warn("model upgrade: product {} not re-embedded with the new model: {}", change.productId(), outcome.failureMessage());
            return;
        }
        DeadLetterRecord.Stage stage = "fetch".equals(outcome.failureStage()) ? DeadLetterRecord.Stage.FETCH : DeadLetterRecord.Stage.EMBED;
        String message = outcome.failureMessage();
        if (outcome.retryable()) {
            RetryState previous = change.source() == null ? null : change.source().retry();
            long now = System.currentTimeMillis();
            int attempts = previous == null ? 1 : previous.attempts() + 1;
            long firstFailedAt = previous == null || previous.attempts() == 0 ? now : previous.firstFailedAt();
            long next = now + backoff.delayMillis(attempts, outcome.retryAfterMillis() < 0 ? null : Duration.ofMillis(outcome.retryAfterMillis()));
            DeadLetterRecord letter = DeadLetterRecord.of(change.source(), change.productId(), stage,
                    outcome.failureReason(), message, outcome.failureClass());
            // A retry must carry the whole original record back; one that would be cut to fit is not retried.
            boolean fits = !budget.fit(letter).truncated();
            if (fits && backoff.withinHorizon(firstFailedAt, next)) {
                retriesScheduled.inc();
                ctx.output(FetchRetry.TAG, new FetchRetry(letter, new RetryState(attempts, firstFailedAt, next)));
                return;
            }
            retriesExhausted.inc();
            message = fits ? "gave up after " + attempts + " attempts over " + Duration.ofMillis(now - firstFailedAt).toSeconds()
                    + " s (fetch.retry.horizon " + backoff.horizon() + "); last: " + message
                    : "not retried: the record is too large to travel whole through the fetch-retry topic "
                    + "(kafka.max-request-size); failed with: " + message;
        }
        ctx.output(DeadLetterRecord.TAG, DeadLetterRecord.of(change.source(), change.productId(), stage,
                outcome.failureReason(), message, outcome.failureClass()));
    }
}
