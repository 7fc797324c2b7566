package dev.similarity.search.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives a running search service with {@code clients} concurrent closed-loop clients for a fixed
 * time: each sends {@code GET /api/similar?product=ID&k=K} for a product id drawn at random from the
 * given ones, waits for the answer, checks it, and sends the next. Each client keeps one
 * keep-alive connection.
 *
 * <p>A request fails if it gets no answer, a status other than 200, a body without neighbours, or
 * neighbours that include the queried product. Pass ids that stay in the index for the whole run:
 * an id removed meanwhile is answered 404 and counts as failed.
 */
public final class SearchLoad {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int FAILURE_SAMPLES = 10;

  private SearchLoad() {}

  /**
   * Runs the load and returns what it measured.
   *
   * @param baseUrl the service, e.g. {@code http://127.0.0.1:8080/}
   * @param productIds ids to query, drawn uniformly at random
   */
  public static SearchLoadResult run(URI baseUrl, List<String> productIds, int clients, Duration duration, int k)
      throws InterruptedException {
    Objects.requireNonNull(baseUrl, "baseUrl");
    if (productIds.isEmpty()) {
      throw new IllegalArgumentException("productIds is empty: give the ids of products in the index");
    }
    if (clients < 1) {
      throw new IllegalArgumentException("clients is " + clients + "; it must be at least 1");
    }
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException("duration is " + duration + "; it must be positive");
    }
    URI base = baseUrl.toString().endsWith("/") ? baseUrl : URI.create(baseUrl + "/");
    List<String> ids = List.copyOf(productIds);
    AtomicLong failed = new AtomicLong();
    List<String> samples = Collections.synchronizedList(new ArrayList<>());
    Client[] workers = new Client[clients];
    Thread[] threads = new Thread[clients];
    long start = System.nanoTime();
    long deadline = start + duration.toNanos();
    for (int c = 0; c < clients; c++) {
      workers[c] = new Client(base, ids, k, deadline, new SplittableRandom(0x5EA4C4L + c), failed, samples);
      threads[c] = new Thread(workers[c], "search-load-" + c);
      threads[c].start();
    }
    for (Thread t : threads) {
      t.join();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    int total = 0;
    for (Client w : workers) {
      total += w.count;
    }
    long[] all = new long[total];
    int at = 0;
    for (Client w : workers) {
      System.arraycopy(w.nanos, 0, all, at, w.count);
      at += w.count;
    }
    Arrays.sort(all);
    return new SearchLoadResult(total, failed.get(), seconds, total / seconds, percentileMs(all, 0.50),
        percentileMs(all, 0.95), percentileMs(all, 0.99), total == 0 ? 0 : all[total - 1] / 1e6,
        samples.subList(0, Math.min(FAILURE_SAMPLES, samples.size())));
  }

  /** Nearest-rank percentile. */
  private static double percentileMs(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, rank - 1)] / 1e6;
  }

  private static final class Client implements Runnable {
    private final URI base;
    private final List<String> ids;
    private final int k;
    private final long deadline;
    private final SplittableRandom random;
    private final AtomicLong failed;
    private final List<String> samples;
    private long[] nanos = new long[1 << 14];
    private int count;

    Client(URI base, List<String> ids, int k, long deadline, SplittableRandom random, AtomicLong failed,
        List<String> samples) {
      this.base = base;
      this.ids = ids;
      this.k = k;
      this.deadline = deadline;
      this.random = random;
      this.failed = failed;
      this.samples = samples;
    }

    @Override
    public void run() {
      while (System.nanoTime() < deadline) {
        String id = ids.get(random.nextInt(ids.size()));
        long begin = System.nanoTime();
        String problem = query(id);
        record(System.nanoTime() - begin);
        if (problem != null) {
          failed.incrementAndGet();
          if (samples.size() < FAILURE_SAMPLES) {
            samples.add(id + ": " + problem);
          }
        }
      }
    }

    private void record(long elapsed) {
      if (count == nanos.length) {
        nanos = Arrays.copyOf(nanos, count * 2);
      }
      nanos[count++] = elapsed;
    }

    /** Null when the answer is a proper neighbour list, else what is wrong with it. */
    private String query(String id) {
      URI uri = base.resolve("api/similar?product=" + URLEncoder.encode(id, StandardCharsets.UTF_8) + "&k=" + k);
      HttpURLConnection connection = null;
      try {
        connection = (HttpURLConnection) uri.toURL().openConnection();
        connection.setInstanceFollowRedirects(false);
        connection.setConnectTimeout(5_000);
        connection.setReadTimeout(30_000);
        int status = connection.getResponseCode();
        byte[] body;
        try (InputStream in = status < 400 ? connection.getInputStream() : connection.getErrorStream()) {
          body = in == null ? new byte[0] : in.readAllBytes();
        }
        if (status != 200) {
          return "HTTP " + status + " " + new String(body, StandardCharsets.UTF_8);
        }
        JsonNode neighbours = JSON.readTree(body).path("neighbours");
        if (!neighbours.isArray() || neighbours.isEmpty()) {
          return "no neighbours in " + new String(body, StandardCharsets.UTF_8);
        }
        for (JsonNode n : neighbours) {
          if (id.equals(n.path("productId").asText())) {
            return "the product is among its own neighbours";
          }
        }
        return null;
      } catch (IOException e) {
        if (connection != null) {
          connection.disconnect(); // the connection may be broken: do not reuse it
        }
        return e.toString();
      }
    }
  }
}
