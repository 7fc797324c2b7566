package dev.similarity.flink.kafka;

import dev.similarity.flink.event.RetryState;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

import java.nio.charset.StandardCharsets;

/**
 * Headers of a fetch-retry topic record (its value is a {@code DeadLetter}): attempts so far, when
 * the first attempt failed and when the next is due, as decimal text (ms since the epoch).
 */
public final class FetchRetryHeaders {

    public static final String ATTEMPTS = "similarity.retry.attempts";
    public static final String FIRST_FAILED_AT = "similarity.retry.first-failed-at";
    public static final String NOT_BEFORE = "similarity.retry.not-before";

    private FetchRetryHeaders() {}

    public static void write(RetryState state, Headers headers) {
        headers.add(ATTEMPTS, text(state.attempts()));
        headers.add(FIRST_FAILED_AT, text(state.firstFailedAt()));
        headers.add(NOT_BEFORE, text(state.notBefore()));
    }

    /** The state the headers name; a record without them (or with unreadable ones) is due now, as a fresh re-drive. */
    public static RetryState read(Headers headers, long now) {
        try {
            Header attempts = headers.lastHeader(ATTEMPTS);
            Header first = headers.lastHeader(FIRST_FAILED_AT);
            Header notBefore = headers.lastHeader(NOT_BEFORE);
            if (attempts == null || first == null || notBefore == null) {
                return RetryState.redrive(now);
            }
            return new RetryState(Integer.parseInt(value(attempts)), Long.parseLong(value(first)), Long.parseLong(value(notBefore)));
        } catch (NumberFormatException e) {
            return RetryState.redrive(now);
        }
    }

    private static byte[] text(long n) {
        return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
    }

    private static String value(Header header) {
        return new String(header.value(), StandardCharsets.US_ASCII);
    }
}
