package dev.similarity.search.internal;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reading requests and writing responses of the JDK HTTP server. */
final class HttpExchanges {

  private HttpExchanges() {}

  /** A response ready to send. */
  record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
    Response(int status, String contentType, byte[] body) {
      this(status, contentType, body, Map.of());
    }
  }

  /** Query parameters; the first of repeated names wins; blank values count as absent. */
  static Map<String, String> query(HttpExchange exchange) throws ApiException {
    Map<String, String> params = new LinkedHashMap<>();
    String raw = exchange.getRequestURI().getRawQuery();
    if (raw == null || raw.isEmpty()) {
      return params;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String name = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      if (!value.isBlank()) {
        params.putIfAbsent(name, value);
      }
    }
    return params;
  }

  private static String decode(String s) throws ApiException {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "the query string has a malformed %-escape in '" + s + "': " + e.getMessage());
    }
  }

  /**
   * The request body, refused with 413 if longer than {@code maxBytes}.
   *
   * @param what names the body in the error, e.g. "image"
   * @param setting the setting that allows more, named in the error
   */
  static byte[] body(HttpExchange exchange, long maxBytes, String what, String setting)
      throws ApiException, IOException {
    String announced = exchange.getRequestHeaders().getFirst("Content-Length");
    if (announced != null) {
      try {
        long length = Long.parseLong(announced.trim());
        if (length > maxBytes) {
          throw tooLarge(what, length + " bytes", maxBytes, setting);
        }
      } catch (NumberFormatException e) {
        throw new ApiException(400, "Content-Length '" + announced + "' is not a number");
      }
    }
    try (InputStream in = exchange.getRequestBody()) {
      byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
      if (body.length > maxBytes) {
        throw tooLarge(what, "more than " + maxBytes + " bytes", maxBytes, setting);
      }
      return body;
    }
  }

  private static ApiException tooLarge(String what, String size, long maxBytes, String setting) {
    return new ApiException(413, what + " is " + size + ", over the limit of " + maxBytes + " bytes ("
        + setting + ")");
  }

  /** Sends {@code response} and closes the exchange's streams. */
  static void send(HttpExchange exchange, Response response) throws IOException {
    var headers = exchange.getResponseHeaders();
    headers.set("Content-Type", response.contentType());
    response.headers().forEach(headers::set);
    byte[] body = response.body();
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(response.status(), head || body.length == 0 ? -1 : body.length);
    if (!head && body.length > 0) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }
}
