package dev.similarity.flink.fetch;

import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class RetryBackoffTest {

    private final RetryBackoff backoff = new RetryBackoff(Duration.ofSeconds(1), Duration.ofSeconds(60), Duration.ofMinutes(10));

    @RepeatedTest(20)
    void delayDoublesPerAttemptOfTheSameImageWithJitterInTheUpperHalf() {
        assertThat(backoff.delayMillis(1, null)).isBetween(500L, 1_000L);
        assertThat(backoff.delayMillis(2, null)).isBetween(1_000L, 2_000L);
        assertThat(backoff.delayMillis(4, null)).isBetween(4_000L, 8_000L);
        assertThat(backoff.delayMillis(30, null)).isBetween(30_000L, 60_000L);
    }

    @Test
    void retryAfterIsAFloorCappedAtTheMaximum() {
        assertThat(backoff.delayMillis(1, Duration.ofSeconds(20))).isEqualTo(20_000L);
        assertThat(backoff.delayMillis(1, Duration.ofHours(1))).isEqualTo(60_000L);
    }

    @Test
    void horizonCountsFromTheFirstFailure() {
        assertThat(backoff.withinHorizon(0, 600_000)).isTrue();
        assertThat(backoff.withinHorizon(0, 600_001)).isFalse();
    }
}
