package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotManifest.SnapshotFile;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import dev.similarity.search.Http.Answer;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shard whose newest snapshot is damaged in the store: the service serves the newest intact one,
 * says so in its health (degraded, naming the shard, the checkpoint and why), and is healthy again
 * once a good snapshot is published.
 */
class CorruptSnapshotFallbackTest {

  private static final int SHARDS = 2;

  @TempDir Path folder;
  private TestCatalogue catalogue;
  private SearchService service;
  private Http http;
  private int shard;

  @BeforeEach
  void publish() {
    catalogue = new TestCatalogue(folder, SHARDS, 16, new RetentionPolicy(10, Duration.ZERO))
        .addProducts(600, i -> "https://img.test/p" + i + ".png");
    catalogue.publisher.publish(); // checkpoint 1, both shards
    shard = catalogue.publisher.shardOf("p1");
  }

  @AfterEach
  void stop() {
    if (service != null) {
      service.close();
    }
    catalogue.close();
  }

  private void start() {
    service = SearchService.builder().store(catalogue.store).port(0).localDir(folder.resolve("mapped"))
        .pollInterval(Duration.ofHours(1)).build().start(); // polls only when the test says so
    http = new Http(service.baseUri());
  }

  /** Publishes a new snapshot of p1's shard and damages the commit point only it has. */
  private long publishDamaged() throws Exception {
    catalogue.change("p1");
    long checkpoint = catalogue.publisher.publish(shard);
    SnapshotManifest manifest = catalogue.store.manifest(shard, checkpoint);
    SnapshotFile own = manifest.files().stream()
        .filter(f -> f.name().equals(manifest.segmentsFileName())).findFirst().orElseThrow();
    flipAByte(blob(own));
    return checkpoint;
  }

  private Path blob(SnapshotFile file) {
    return folder.resolve(String.format("shard-%04d/blobs/%s", shard, file.blob()));
  }

  @Test
  void aServiceStartedWhileTheNewestSnapshotIsCorruptServesTheNewestIntactOne() throws Exception {
    catalogue.change("p1");
    long intact = catalogue.publisher.publish(shard);
    long damaged = publishDamaged();

    start();

    assertThat(service.servedCheckpoints()).containsEntry(shard, intact).containsEntry(1 - shard, 1L);
    Answer similar = http.get("api/similar?product=p1&k=5");
    assertThat(similar.status()).as(similar.body()).isEqualTo(200);
    assertThat(similar.json().get("neighbours")).hasSize(5);
    JsonNode health = http.get("api/health").json();
    assertThat(health.get("status").asText()).isEqualTo("degraded");
    assertThat(health.at("/refused/0/shard").asInt()).isEqualTo(shard);
    assertThat(health.at("/refused/0/checkpointId").asLong()).isEqualTo(damaged);
    assertThat(health.at("/refused/0/reason").asText()).isEqualTo("corrupt");
    assertThat(health.at("/refused/0/message").asText()).contains("SHA-256");
    assertThat(health.at("/refused/0/servedCheckpointId").asLong()).isEqualTo(intact);
    assertThat(Http.metric(http.get("metrics").body(),
        "search_snapshot_refused_checkpoint_id{shard=\"" + shard + "\",reason=\"corrupt\"}")).isEqualTo(damaged);

    catalogue.change("p1");
    long repaired = catalogue.publisher.publish(shard);
    service.pollNow();

    assertThat(service.servedCheckpoints()).containsEntry(shard, repaired);
    JsonNode healthy = http.get("api/health").json();
    assertThat(healthy.get("status").asText()).isEqualTo("ok");
    assertThat(healthy.has("refused")).isFalse();
    assertThat(http.get("metrics").body()).doesNotContain("search_snapshot_refused_checkpoint_id{");
  }

  @Test
  void healthIsDegradedWhileTheNewestSnapshotOfAServedShardIsRefused() throws Exception {
    start();
    long damaged = publishDamaged();

    service.pollNow();

    assertThat(service.servedCheckpoints()).containsEntry(shard, 1L);
    Answer health = http.get("api/health");
    assertThat(health.status()).as("still serving: requests may keep coming").isEqualTo(200);
    assertThat(health.json().get("status").asText()).isEqualTo("degraded");
    assertThat(health.json().at("/refused/0/checkpointId").asLong()).isEqualTo(damaged);
    assertThat(health.json().at("/refused/0/servedCheckpointId").asLong()).isEqualTo(1);

    catalogue.change("p1");
    catalogue.publisher.publish(shard);
    service.pollNow();

    assertThat(http.get("api/health").json().get("status").asText()).isEqualTo("ok");
  }

  @Test
  void withEverySnapshotOfAShardCorruptHealthIsUnavailableAndOlderOnesAreTriedOnce() throws Exception {
    // A file every snapshot of the shard shares: all of them fail their checksums.
    SnapshotManifest first = catalogue.store.manifest(shard, 1);
    SnapshotFile shared = first.files().stream().max(Comparator.comparingLong(SnapshotFile::size)).orElseThrow();
    catalogue.change("p1");
    long newest = catalogue.publisher.publish(shard);
    assertThat(catalogue.store.manifest(shard, newest).files()).contains(shared);
    flipAByte(blob(shared));

    start();
    service.pollNow();

    assertThat(service.servedCheckpoints()).doesNotContainKey(shard);
    Answer health = http.get("api/health");
    assertThat(health.status()).isEqualTo(503);
    assertThat(health.json().get("status").asText()).isEqualTo("unavailable");
    assertThat(health.json().at("/refused/0/checkpointId").asLong()).isEqualTo(newest);
    assertThat(health.json().at("/refused/0/servedCheckpointId").isNull()).isTrue();
    // Two polls: the newest twice, the older one once.
    assertThat(Http.metric(http.get("metrics").body(),
        "search_snapshot_load_failures_total{shard=\"" + shard + "\",reason=\"corrupt\"}")).isEqualTo(3);
  }

  private static void flipAByte(Path file) throws Exception {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(raf.length() / 2);
      int b = raf.read();
      raf.seek(raf.length() / 2);
      raf.write(b ^ 0x5a);
    }
  }
}
