package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.similarity.search.Http.Answer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HealthAndMetricsTest {

  @TempDir Path folder;

  @Test
  void emptyStoreIsUnavailableAndHealthNamesTheStore() {
    try (TestCatalogue catalogue = new TestCatalogue(folder, 2, 8);
        SearchService service = SearchService.builder().store(catalogue.store).port(0).build().start()) {
      Answer health = new Http(service.baseUri()).get("api/health");

      assertThat(health.status()).isEqualTo(503);
      assertThat(health.json().get("status").asText()).isEqualTo("unavailable");
      assertThat(health.json().at("/problems/0").asText())
          .contains("no shard snapshot is loaded from " + catalogue.store.location());
    }
  }

  @Test
  void healthIs503NamingTheMissingShardUntilEveryShardHasASnapshot() {
    try (TestCatalogue catalogue = new TestCatalogue(folder, 4, 8).addProducts(400, i -> null)) {
      catalogue.publisher.publish(0);
      catalogue.publisher.publish(1);
      catalogue.publisher.publish(3);
      try (SearchService service = SearchService.builder().store(catalogue.store).port(0).build().start()) {
        Http http = new Http(service.baseUri());
        Answer health = http.get("api/health");
        Answer query = http.get("api/similar?product=p1");

        assertThat(health.status()).isEqualTo(503);
        assertThat(health.json().at("/problems/0").asText()).isEqualTo("no snapshot of shard 2 of 4 is loaded");
        assertThat(health.json().get("shards").size()).isEqualTo(3);
        assertThat(query.status()).isEqualTo(503);
        assertThat(query.json().get("error").asText()).contains("shard 2 of 4");

        catalogue.publisher.publish(2);
        service.pollNow();
        JsonNode healthy = http.get("api/health").json();

        assertThat(healthy.get("status").asText()).isEqualTo("ok");
        assertThat(healthy.get("shardCount").asInt()).isEqualTo(4);
        assertThat(healthy.get("documents").asInt()).isEqualTo(400);
        assertThat(healthy.at("/shards/2/checkpointId").asLong()).isEqualTo(4);
        assertThat(healthy.at("/shards/2/modelId").asText()).isEqualTo(TestCatalogue.MODEL_ID);
        assertThat(http.get("api/similar?product=p1").status()).isEqualTo(200);
      }
    }
  }

  @Test
  void metricsReportSnapshotAgeCheckpointsDocumentsRequestsAndLatency() {
    try (TestCatalogue catalogue = new TestCatalogue(folder, 2, 8).addProducts(300, i -> null)) {
      catalogue.publisher.publish();
      Clock anHourLater = Clock.offset(Clock.systemUTC(), Duration.ofHours(1));
      try (SearchService service =
          SearchService.builder().store(catalogue.store).port(0).clock(anHourLater).build().start()) {
        Http http = new Http(service.baseUri());
        for (int i = 0; i < 5; i++) {
          assertThat(http.get("api/similar?product=p" + i).status()).isEqualTo(200);
        }
        assertThat(http.get("api/similar?product=nope").status()).isEqualTo(404);
        Answer metrics = http.get("metrics");
        String text = metrics.body();

        assertThat(metrics.header("Content-Type")).startsWith("text/plain; version=0.0.4");
        assertThat(Http.metric(text, "search_snapshot_age_seconds{shard=\"0\"}")).isBetween(3600.0, 3660.0);
        assertThat(Http.metric(text, "search_snapshot_checkpoint_id{shard=\"1\"}")).isEqualTo(1);
        assertThat(Http.metric(text, "search_snapshot_documents{shard=\"0\"}")
            + Http.metric(text, "search_snapshot_documents{shard=\"1\"}")).isEqualTo(300);
        assertThat(Http.metric(text, "search_requests_total{endpoint=\"similar\",status=\"200\"}")).isEqualTo(5);
        assertThat(Http.metric(text, "search_requests_total{endpoint=\"similar\",status=\"404\"}")).isEqualTo(1);
        assertThat(Http.metric(text, "search_request_duration_seconds_count{endpoint=\"similar\"}")).isEqualTo(6);
        assertThat(Http.metric(text, "search_request_duration_seconds_bucket{endpoint=\"similar\",le=\"+Inf\"}"))
            .isEqualTo(6);
        assertThat(Http.metric(text, "search_snapshots_open")).isEqualTo(2);
        assertThat(Http.metric(text, "search_index_complete")).isEqualTo(1);
        assertThat(text).contains("# TYPE search_request_duration_seconds histogram")
            .contains("# TYPE search_snapshot_swaps_total counter")
            .contains("# TYPE search_snapshot_load_failures_total counter");
      }
    }
  }
}
