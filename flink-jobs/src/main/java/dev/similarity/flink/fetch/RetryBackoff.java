package dev.similarity.flink.fetch;

import java.io.Serializable;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Delay before an image's next fetch attempt: exponential per image (its own attempt count, never
 * a counter shared with other images), capped, with "equal jitter" so that images that failed
 * together do not return together: {@code d = min(max, initial * 2^(attempts-1))}, delay uniform in
 * {@code [d/2, d]} (AWS Architecture Blog, "Exponential Backoff and Jitter", 2015). A server's
 * {@code Retry-After}, capped at {@code max}, is a floor.
 */
public record RetryBackoff(Duration initial, Duration max, Duration horizon) implements Serializable {

    public RetryBackoff {
        if (initial.isNegative() || initial.isZero()) throw new IllegalArgumentException("fetch.retry.initial-backoff must be positive");
        if (max.compareTo(initial) < 0) throw new IllegalArgumentException("fetch.retry.max-backoff must be at least fetch.retry.initial-backoff");
    }

    /** @param attempts attempts made so far, at least 1 */
    public long delayMillis(int attempts, Duration retryAfter) {
        int exponent = Math.min(Math.max(attempts, 1) - 1, 30);
        long ceiling = Math.min(max.toMillis(), initial.toMillis() << exponent);
        if (ceiling <= 0) ceiling = max.toMillis();
        long delay = ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
        if (retryAfter != null) {
            delay = Math.max(delay, Math.min(retryAfter.toMillis(), max.toMillis()));
        }
        return delay;
    }

    /** Whether an attempt due at {@code nextAttemptAt} is still within the horizon of a first failure at {@code firstFailedAt}. */
    public boolean withinHorizon(long firstFailedAt, long nextAttemptAt) {
        return nextAttemptAt - firstFailedAt <= horizon.toMillis();
    }
}
