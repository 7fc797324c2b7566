package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import dev.similarity.search.bench.SearchLoad;
import dev.similarity.search.bench.SearchLoadResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Queries under concurrent load while the shards' snapshots are republished and swapped. */
class ConcurrentSwapIT {

  private static final int SHARDS = 4;

  @TempDir Path folder;

  @Test
  void queriesNeverFailOrComeBackEmptyWhileSnapshotsSwap() throws Exception {
    // Retention keeps one snapshot: loads race with deletions, and the loader must retry.
    try (TestCatalogue catalogue = new TestCatalogue(folder, SHARDS, 32, new RetentionPolicy(1, Duration.ZERO))
        .addProducts(8_000, i -> "https://img.test/p" + i + ".png")) {
      catalogue.publisher.publish();
      try (SearchService service = SearchService.builder().store(catalogue.store).port(0)
          .pollInterval(Duration.ofMillis(20)).build().start()) {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> publisherFailure = new AtomicReference<>();
        Map<Integer, Long> lastPublished = new HashMap<>();
        Thread publisher = new Thread(() -> {
          SplittableRandom random = new SplittableRandom(11);
          try {
            for (int round = 0; !stop.get(); round++) {
              int shard = round % SHARDS;
              for (int c = 0; c < 40; c++) {
                String id = catalogue.ids.get(random.nextInt(catalogue.ids.size()));
                if (catalogue.publisher.shardOf(id) == shard) {
                  catalogue.change(id);
                }
              }
              synchronized (lastPublished) {
                lastPublished.put(shard, catalogue.publisher.publish(shard));
              }
              Thread.sleep(60);
            }
          } catch (Throwable e) {
            publisherFailure.set(e);
          }
        }, "test-publisher");
        publisher.start();

        SearchLoadResult result =
            SearchLoad.run(service.baseUri(), List.copyOf(catalogue.ids), 4, Duration.ofSeconds(10), 10);
        stop.set(true);
        publisher.join();
        System.out.println("under load while swapping: " + result.summary() + "; " + service.swaps() + " swaps");

        assertThat(publisherFailure.get()).isNull();
        assertThat(result.failureSamples()).isEmpty();
        assertThat(result.failedRequests()).isZero();
        // Thousands on a quiet machine; the floor leaves room for a machine shared with other builds.
        assertThat(result.requests()).isGreaterThan(500);
        assertThat(service.swaps()).isGreaterThan(10);

        service.pollNow();
        assertThat(service.servedCheckpoints()).containsAllEntriesOf(lastPublished);
        // Every replaced snapshot was closed once its last request finished.
        assertThat(service.snapshotsOpen()).isEqualTo(SHARDS);
        String metrics = new Http(service.baseUri()).get("metrics").body();
        assertThat(Http.metric(metrics, "search_snapshots_closed_total")).isEqualTo(service.swaps());
        assertThat(Http.metric(metrics, "search_requests_total{endpoint=\"similar\",status=\"200\"}"))
            .isEqualTo(result.requests());
      }
    }
  }
}
