package dev.similarity.flink.local;

import java.util.List;

/** Flink's REST API answered a request with an error status; {@link #errors()} holds what it said. */
public final class FlinkRestException extends RuntimeException {

  private final int statusCode;
  private final List<String> errors;

  public FlinkRestException(String request, int statusCode, List<String> errors) {
    super(request + " answered HTTP " + statusCode + (errors.isEmpty() ? "" : ": " + String.join("\n", errors)));
    this.statusCode = statusCode;
    this.errors = List.copyOf(errors);
  }

  public int statusCode() {
    return statusCode;
  }

  /** Flink's {@code errors} array: a message, often followed by a server-side stack trace. */
  public List<String> errors() {
    return errors;
  }
}
