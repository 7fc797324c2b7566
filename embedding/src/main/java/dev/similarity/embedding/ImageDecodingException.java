package dev.similarity.embedding;

import java.util.Objects;

/**
 * Image bytes that cannot become a model input. The {@link #reason()} says which rule the input
 * broke; the message names the problem and, for limits, the setting that allows more.
 */
public final class ImageDecodingException extends Exception {

  /** Why an image was refused. */
  public enum Reason {
    /** No bytes at all. */
    EMPTY,
    /** More bytes than {@code maxImageBytes}; refused before decoding. */
    TOO_MANY_BYTES,
    /** Header announces more pixels than {@code maxImagePixels}; refused before decoding pixels. */
    TOO_MANY_PIXELS,
    /** Not JPEG, PNG, GIF, BMP or WebP. */
    UNSUPPORTED_FORMAT,
    /** A known format whose data ends early. */
    TRUNCATED,
    /** A known format whose data is damaged or inconsistent. */
    CORRUPT
  }

  private final Reason reason;

  public ImageDecodingException(Reason reason, String message) {
    super(message);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public ImageDecodingException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public Reason reason() {
    return reason;
  }
}
