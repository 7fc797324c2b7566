package dev.similarity.schemas.wire;

/** Bytes that are not a record of the expected type in the expected wire format. The message says what was wrong. */
public class InvalidRecordException extends Exception {

  private static final long serialVersionUID = 1L;

  public InvalidRecordException(String message) {
    super(message);
  }

  public InvalidRecordException(String message, Throwable cause) {
    super(message, cause);
  }
}
