package dev.similarity.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small HTTP client for the tests: one call, the status, the body as text and as JSON. */
final class Http {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

  record Answer(int status, String body, HttpResponse<String> response) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new AssertionError("not JSON (HTTP " + status + "): " + body, e);
      }
    }

    String header(String name) {
      return response.headers().firstValue(name).orElse(null);
    }
  }

  private final URI base;

  Http(URI base) {
    this.base = base;
  }

  Answer get(String path) {
    return send(HttpRequest.newBuilder(base.resolve(path)).GET());
  }

  Answer post(String path, byte[] body, String contentType) {
    return send(HttpRequest.newBuilder(base.resolve(path)).header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
  }

  Answer postJson(String path, String json) {
    return post(path, json.getBytes(java.nio.charset.StandardCharsets.UTF_8), "application/json");
  }

  private static Answer send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> response =
          CLIENT.send(request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body(), response);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** The neighbours' product ids of a query answer, best first. */
  static java.util.List<String> ids(JsonNode answer) {
    java.util.List<String> ids = new java.util.ArrayList<>();
    answer.get("neighbours").forEach(n -> ids.add(n.get("productId").asText()));
    return ids;
  }

  /** The value of one sample in Prometheus text, e.g. {@code metric(text, "search_snapshots_open")}. */
  static double metric(String text, String sample) {
    for (String line : text.split("\n")) {
      if (line.startsWith(sample + " ")) {
        return Double.parseDouble(line.substring(sample.length() + 1).trim());
      }
    }
    throw new AssertionError("no sample " + sample + " in\n" + text);
  }
}
