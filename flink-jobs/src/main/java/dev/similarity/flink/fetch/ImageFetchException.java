package dev.similarity.flink.fetch;

import java.time.Duration;
import java.util.Optional;

/**
 * An image could not be fetched. Every failure of {@link ImageFetcher#fetch} is one of these, with a
 * stable {@link Code}: the code alone decides whether trying again may help and which dead-letter
 * reason the record gets, so a refusal by policy is never retried.
 */
public final class ImageFetchException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Why a fetch failed. Names are stable: they appear in dead letters and metric names. */
    public enum Code {
        // Refused before any connection, by the URL policy (never retried).
        URL_INVALID(Kind.REFUSED), URL_TOO_LONG(Kind.REFUSED), SCHEME_REFUSED(Kind.REFUSED),
        USERINFO_REFUSED(Kind.REFUSED), PORT_REFUSED(Kind.REFUSED), HOST_INVALID(Kind.REFUSED),
        HOST_NUMERIC_NONCANONICAL(Kind.REFUSED), ADDRESS_REFUSED(Kind.REFUSED), REDIRECT_INVALID(Kind.REFUSED),
        TOO_MANY_REDIRECTS(Kind.REFUSED), FILE_REFUSED(Kind.REFUSED),
        // The origin answered, and what it answered will not change by asking again.
        HTTP_CLIENT_ERROR(Kind.PERMANENT), CONTENT_ENCODING_REFUSED(Kind.PERMANENT),
        // Too big (never retried).
        TOO_LARGE(Kind.TOO_LARGE),
        // Transient: the host or the network may recover.
        HOST_UNRESOLVED(Kind.TRANSIENT), CONNECT_FAILED(Kind.TRANSIENT), TIMED_OUT(Kind.TRANSIENT),
        DEADLINE_EXCEEDED(Kind.TRANSIENT), TOO_SLOW(Kind.TRANSIENT), HTTP_SERVER_ERROR(Kind.TRANSIENT),
        BODY_INCOMPLETE(Kind.TRANSIENT), HOST_BUSY(Kind.TRANSIENT), IO_ERROR(Kind.TRANSIENT);

        private final Kind kind;

        Code(Kind kind) {
            this.kind = kind;
        }

        public boolean retryable() {
            return kind == Kind.TRANSIENT;
        }

        /** The {@code dev.similarity.schemas.DeadLetterReason} constant for this code. */
        public String deadLetterReason() {
            return switch (kind) {
                case REFUSED -> "IMAGE_URL_REFUSED";
                case TOO_LARGE -> "IMAGE_TOO_LARGE";
                case PERMANENT, TRANSIENT -> "IMAGE_UNREACHABLE";
            };
        }

        /** Whether the URL policy refused the fetch (metric {@code fetchRefused.<code>}). */
        public boolean isPolicyRefusal() {
            return kind == Kind.REFUSED;
        }

        private enum Kind { REFUSED, PERMANENT, TOO_LARGE, TRANSIENT }
    }

    private final Code code;
    private final Duration retryAfter;

    public ImageFetchException(Code code, String message) {
        this(code, message, null, null);
    }

    public ImageFetchException(Code code, String message, Throwable cause) {
        this(code, message, null, cause);
    }

    /** @param retryAfter the delay an HTTP 429 or 503 asked for in {@code Retry-After}, or null */
    public ImageFetchException(Code code, String message, Duration retryAfter, Throwable cause) {
        super("[" + code + "] " + message, cause);
        this.code = code;
        this.retryAfter = retryAfter;
    }

    public Code code() {
        return code;
    }

    public boolean retryable() {
        return code.retryable();
    }

    /** The delay the server asked for before trying again, if it named one. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
