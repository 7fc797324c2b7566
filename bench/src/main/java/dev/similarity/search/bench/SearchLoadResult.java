package dev.similarity.search.bench;

import java.util.List;
import java.util.Locale;

/**
 * What a {@link SearchLoad} run measured. Latencies are per request as the client saw them, from
 * sending the request to having read and checked the whole response.
 *
 * @param requests requests completed (successful or not)
 * @param failedRequests requests that got no answer, a status other than 200, or no neighbours
 * @param seconds how long the run lasted
 * @param qps requests per second
 * @param p50Ms median latency
 * @param p95Ms 95th percentile latency
 * @param p99Ms 99th percentile latency
 * @param maxMs slowest request
 * @param failureSamples the first few failures, each with its product id and what went wrong
 */
public record SearchLoadResult(
    long requests,
    long failedRequests,
    double seconds,
    double qps,
    double p50Ms,
    double p95Ms,
    double p99Ms,
    double maxMs,
    List<String> failureSamples) {

  public SearchLoadResult {
    failureSamples = List.copyOf(failureSamples);
  }

  /** One line a person can read. */
  public String summary() {
    return String.format(Locale.ROOT,
        "%,d requests in %.1f s (%,.0f/s), p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.1f ms, %d failed",
        requests, seconds, qps, p50Ms, p95Ms, p99Ms, maxMs, failedRequests);
  }
}
