package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotManifest.SnapshotFile;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Newer snapshots replace served ones; broken ones are refused while the served one stays. */
class SnapshotSwapTest {

  private static final int SHARDS = 2;

  @TempDir Path folder;
  private TestCatalogue catalogue;
  private SearchService service;
  private Http http;

  @BeforeEach
  void start() {
    catalogue = new TestCatalogue(folder, SHARDS, 16).addProducts(600, i -> "https://img.test/p" + i + ".png");
    catalogue.publisher.publish();
    // Polls only when the test says so.
    service = SearchService.builder().store(catalogue.store).port(0).localDir(folder.resolve("mapped"))
        .pollInterval(java.time.Duration.ofHours(1)).build().start();
    http = new Http(service.baseUri());
  }

  @AfterEach
  void stop() {
    service.close();
    catalogue.close();
  }

  private String metrics() {
    return http.get("metrics").body();
  }

  private List<String> neighbourIds(String productId) {
    List<String> ids = new ArrayList<>();
    http.get("api/similar?product=" + productId + "&k=5").json().get("neighbours")
        .forEach(n -> ids.add(n.get("productId").asText()));
    return ids;
  }

  @Test
  void newerSnapshotIsServedAfterAPollAndTheReplacedOneIsClosed() throws Exception {
    String moved = "p5";
    int shard = catalogue.publisher.shardOf(moved);
    // p5 takes p300's vector: once swapped in, p300 must be p5's best neighbour with cosine 1.
    float[] target = catalogue.vectors.get("p300");
    catalogue.vectors.put(moved, target);
    catalogue.publisher.upsert(moved, target, "c0", "https://img.test/p5.png");
    long checkpoint = catalogue.publisher.publish(shard);

    assertThat(neighbourIds(moved).getFirst()).isNotEqualTo("p300");
    service.pollNow();
    JsonNode answer = http.get("api/similar?product=" + moved + "&k=5").json();

    assertThat(answer.at("/neighbours/0/productId").asText()).isEqualTo("p300");
    assertThat(answer.at("/neighbours/0/score").floatValue()).isGreaterThan(0.9999f);
    assertThat(answer.at("/snapshots/" + shard).asLong()).isEqualTo(checkpoint);
    assertThat(service.servedCheckpoints()).containsEntry(shard, checkpoint).containsEntry(1 - shard, 1L);
    assertThat(service.swaps()).isEqualTo(1);
    assertThat(service.snapshotsOpen()).isEqualTo(SHARDS);
    assertThat(Http.metric(metrics(), "search_snapshots_closed_total")).isEqualTo(1);
    assertThat(Http.metric(metrics(), "search_snapshot_swaps_total{shard=\"" + shard + "\"}")).isEqualTo(1);
    assertThat(mappedCopies()).hasSize(SHARDS);
  }

  @Test
  void closingTheServiceDeletesItsMappedCopies() throws Exception {
    assertThat(mappedCopies()).hasSize(SHARDS);
    service.close();
    assertThat(folder.resolve("mapped")).isEmptyDirectory();
  }

  /** The local copies of loaded snapshots. */
  private List<Path> mappedCopies() throws java.io.IOException {
    try (var services = Files.list(folder.resolve("mapped"));
        var copies = Files.list(services.findFirst().orElseThrow())) {
      return copies.toList();
    }
  }

  @Test
  void snapshotFailingItsChecksumIsRefusedCountedAndTheServedOneKept() throws Exception {
    catalogue.change("p1");
    int shard = catalogue.publisher.shardOf("p1");
    long broken = catalogue.publisher.publish(shard);
    SnapshotManifest manifest = catalogue.store.manifest(shard, broken);
    // The commit point is unique to this snapshot, so a later snapshot does not share the damage.
    SnapshotFile segments = manifest.files().stream()
        .filter(f -> f.name().equals(manifest.segmentsFileName())).findFirst().orElseThrow();
    flipAByte(folder.resolve(String.format("shard-%04d/blobs/%s", shard, segments.blob())));

    service.pollNow();
    service.pollNow();

    assertThat(service.servedCheckpoints()).containsEntry(shard, 1L);
    assertThat(Http.metric(metrics(), "search_snapshot_load_failures_total{shard=\"" + shard + "\",reason=\"corrupt\"}"))
        .isEqualTo(2);
    assertThat(http.get("api/health").status()).isEqualTo(200);
    assertThat(neighbourIds("p1")).hasSize(5);
    assertThat(service.snapshotsOpen()).isEqualTo(SHARDS);

    catalogue.change("p1");
    long repaired = catalogue.publisher.publish(shard);
    service.pollNow();

    assertThat(service.servedCheckpoints()).containsEntry(shard, repaired);
  }

  @Test
  void snapshotMissingABlobIsCountedAndTheServedOneKept() throws Exception {
    catalogue.change("p2");
    int shard = catalogue.publisher.shardOf("p2");
    long damaged = catalogue.publisher.publish(shard);
    SnapshotManifest manifest = catalogue.store.manifest(shard, damaged);
    SnapshotFile segments = manifest.files().stream()
        .filter(f -> f.name().equals(manifest.segmentsFileName())).findFirst().orElseThrow();
    Files.delete(folder.resolve(String.format("shard-%04d/blobs/%s", shard, segments.blob())));

    service.pollNow();

    assertThat(service.servedCheckpoints()).containsEntry(shard, 1L);
    assertThat(Http.metric(metrics(), "search_snapshot_load_failures_total{shard=\"" + shard + "\",reason=\"missing\"}"))
        .isEqualTo(1);
    assertThat(neighbourIds("p2")).hasSize(5);
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
