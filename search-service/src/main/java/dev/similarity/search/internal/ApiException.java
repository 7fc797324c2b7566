package dev.similarity.search.internal;

import java.util.Map;

/** A request the service refuses: the HTTP status, a message that names the problem, extra headers. */
final class ApiException extends Exception {

  private final int status;
  private final Map<String, String> headers;

  ApiException(int status, String message) {
    this(status, message, Map.of());
  }

  ApiException(int status, String message, Map<String, String> headers) {
    super(message);
    this.status = status;
    this.headers = headers;
  }

  int status() {
    return status;
  }

  Map<String, String> headers() {
    return headers;
  }
}
