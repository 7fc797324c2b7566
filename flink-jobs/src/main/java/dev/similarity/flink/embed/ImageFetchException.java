package dev.similarity.flink.embed;

/** An image could not be fetched; {@link #retryable()} says whether trying again may help. */
public final class ImageFetchException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Names match {@code dev.similarity.schemas.DeadLetterReason}. */
    public enum Reason { IMAGE_UNREACHABLE, IMAGE_TOO_LARGE }

    private final Reason reason;
    private final boolean retryable;

    public ImageFetchException(Reason reason, boolean retryable, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
        this.retryable = retryable;
    }

    public Reason reason() {
        return reason;
    }

    public boolean retryable() {
        return retryable;
    }
}
