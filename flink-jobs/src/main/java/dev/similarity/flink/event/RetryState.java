package dev.similarity.flink.event;

/**
 * Where a catalogue record stands in its retries, when it came back through the fetch-retry topic.
 *
 * @param attempts      fetch attempts made so far (0 for a dead letter fed back in by an operator)
 * @param firstFailedAt when the first attempt failed, ms since the epoch; the retry horizon counts from it
 * @param notBefore     the earliest time of the next attempt, ms since the epoch
 */
public record RetryState(int attempts, long firstFailedAt, long notBefore) {

    /** For a dead letter fed back in by hand: a fresh horizon, due at once. */
    public static RetryState redrive(long now) {
        return new RetryState(0, now, now);
    }
}
