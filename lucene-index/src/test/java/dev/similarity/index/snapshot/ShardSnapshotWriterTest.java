package dev.similarity.index.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.similarity.index.ScoredProduct;
import dev.similarity.index.SearchOptions;
import dev.similarity.index.ShardIndex;
import dev.similarity.index.snapshot.ShardSnapshot.SnapshotHit;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import dev.similarity.index.tools.ClusteredUnitVectors;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardSnapshotWriterTest {

  private static final int DIM = 16;
  private static final int SHARD = 2;

  @TempDir Path folder;
  private SnapshotStore store;
  private ShardIndex index;
  private final ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 8, 1.0, 11);
  private final Map<String, float[]> written = new HashMap<>();

  @BeforeEach
  void open() {
    store = SnapshotStore.at(folder.toString());
    index = ShardIndex.builder().dimension(DIM).build();
  }

  @AfterEach
  void close() {
    index.close();
  }

  private ShardSnapshotWriter writer(RetentionPolicy retention) {
    return new ShardSnapshotWriter(store, SHARD, 4, "test-model:1", DIM, retention, Runnable::run,
        Clock.systemUTC());
  }

  private void write(int from, int to) {
    for (int i = from; i < to; i++) {
      float[] v = vectors.next();
      written.put("p" + i, v);
      index.upsert("p" + i, v, i % 2 == 0 ? "even" : "odd", "http://img/" + i + ".png");
    }
  }

  private ShardSnapshot loadLatest() throws SnapshotCorruptException {
    return ShardSnapshot.load(store, store.latest(SHARD).orElseThrow());
  }

  @Test
  void publishedSnapshotHoldsTheIndexedProductsWithVectorsCategoriesAndImageUrls() throws Exception {
    write(0, 300);
    index.delete("p7");
    ShardSnapshotWriter writer = writer(new RetentionPolicy(3, Duration.ZERO));
    writer.capture(index, 5);
    writer.publish(5);

    try (ShardSnapshot snapshot = loadLatest()) {
      SnapshotManifest manifest = snapshot.manifest();
      assertThat(manifest.shard()).isEqualTo(SHARD);
      assertThat(manifest.shardCount()).isEqualTo(4);
      assertThat(manifest.checkpointId()).isEqualTo(5);
      assertThat(manifest.documentCount()).isEqualTo(299);
      assertThat(manifest.modelId()).isEqualTo("test-model:1");
      assertThat(snapshot.documentCount()).isEqualTo(299);
      assertThat(snapshot.product("p7")).isEmpty();
      var p8 = snapshot.product("p8").orElseThrow();
      assertThat(p8.vector()).containsExactly(written.get("p8"));
      assertThat(p8.category()).isEqualTo("even");
      assertThat(p8.imageUrl()).isEqualTo("http://img/8.png");

      for (String id : List.of("p1", "p42", "p299")) {
        List<SnapshotHit> fromSnapshot = snapshot.search(written.get(id), 10, null, id, 100);
        List<ScoredProduct> fromIndex =
            index.search(written.get(id), 10, SearchOptions.NONE.exclude(id));
        assertThat(fromSnapshot).extracting(SnapshotHit::productId)
            .containsExactlyElementsOf(fromIndex.stream().map(ScoredProduct::productId).toList());
      }
      assertThat(snapshot.search(written.get("p1"), 5, "even", null, 100))
          .allSatisfy(hit -> assertThat(hit.category()).isEqualTo("even"));
    }
  }

  @Test
  void captureAloneIsNotVisibleUntilItsCheckpointCompletes() throws Exception {
    write(0, 50);
    ShardSnapshotWriter writer = writer(new RetentionPolicy(3, Duration.ZERO));
    writer.capture(index, 1);
    writer.publish(1);
    write(50, 80);
    writer.capture(index, 2);

    assertThat(store.latest(SHARD).orElseThrow().checkpointId()).isEqualTo(1);
    writer.publish(2);
    assertThat(store.latest(SHARD).orElseThrow().documentCount()).isEqualTo(80);
  }

  @Test
  void completedCheckpointPublishesTheNewestCaptureBeforeIt() throws Exception {
    ShardSnapshotWriter writer = writer(new RetentionPolicy(3, Duration.ZERO));
    write(0, 10);
    writer.capture(index, 3);
    write(10, 20);
    writer.capture(index, 4);
    write(20, 30);
    writer.capture(index, 6);

    writer.publish(5);

    assertThat(store.checkpoints(SHARD)).containsExactly(4L);
    assertThat(store.latest(SHARD).orElseThrow().documentCount()).isEqualTo(20);
  }

  @Test
  void filesThatDidNotChangeAreStoredOnce() throws Exception {
    ShardSnapshotWriter writer = writer(new RetentionPolicy(10, Duration.ofHours(1)));
    write(0, 200);
    writer.capture(index, 1);
    writer.publish(1);
    long blobsAfterFirst = blobCount();
    writer.capture(index, 2); // nothing changed: only a new segments_N
    writer.publish(2);

    assertThat(blobCount()).isEqualTo(blobsAfterFirst + 1);
    SnapshotManifest first = store.manifest(SHARD, 1);
    SnapshotManifest second = store.manifest(SHARD, 2);
    assertThat(second.files().stream().filter(f -> !f.name().startsWith("segments")))
        .containsExactlyInAnyOrderElementsOf(
            first.files().stream().filter(f -> !f.name().startsWith("segments")).toList());
  }

  @Test
  void corruptedBlobIsRefusedOnLoad() throws Exception {
    write(0, 100);
    ShardSnapshotWriter writer = writer(new RetentionPolicy(3, Duration.ZERO));
    writer.capture(index, 1);
    writer.publish(1);
    SnapshotManifest manifest = store.latest(SHARD).orElseThrow();
    var biggest = manifest.files().stream()
        .max((a, b) -> Long.compare(a.size(), b.size())).orElseThrow();
    Path blob = folder.resolve("shard-0002/blobs/" + biggest.blob());
    try (RandomAccessFile file = new RandomAccessFile(blob.toFile(), "rw")) {
      file.seek(file.length() / 2);
      int b = file.read();
      file.seek(file.length() / 2);
      file.write(b ^ 0x5a);
    }

    assertThatThrownBy(() -> ShardSnapshot.load(store, manifest))
        .isInstanceOf(SnapshotCorruptException.class)
        .hasMessageContaining(biggest.blob())
        .hasMessageContaining("SHA-256");
  }

  @Test
  void manifestIsRefusedWhileABlobIsMissing() throws Exception {
    write(0, 20);
    ShardSnapshotWriter writer = writer(new RetentionPolicy(3, Duration.ZERO));
    writer.capture(index, 1);
    writer.publish(1);
    SnapshotManifest manifest = store.latest(SHARD).orElseThrow();
    SnapshotManifest later = new SnapshotManifest(manifest.formatVersion(), manifest.shard(),
        manifest.shardCount(), 9, manifest.luceneGeneration(), manifest.segmentsFileName(),
        manifest.documentCount(), manifest.modelId(), manifest.dimension(), Instant.now(),
        Stream.concat(manifest.files().stream(),
            Stream.of(new SnapshotManifest.SnapshotFile("_9.vec", "_9.vec-0000000000000000", 5, "00"))).toList());

    assertThatThrownBy(() -> store.publish(later))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("_9.vec-0000000000000000 is missing");
    assertThat(store.checkpoints(SHARD)).containsExactly(1L);
  }

  @Test
  void unfinishedManifestIsIgnoredByReaders() throws Exception {
    write(0, 20);
    ShardSnapshotWriter writer = writer(new RetentionPolicy(3, Duration.ZERO));
    writer.capture(index, 1);
    writer.publish(1);
    Files.writeString(folder.resolve("shard-0002/manifests/.00000000000000000002.json.x.tmp"), "{\"half");

    assertThat(store.checkpoints(SHARD)).containsExactly(1L);
    assertThat(store.shards()).containsExactly(SHARD);
  }

  @Test
  void retentionKeepsTheNewestSnapshotsAndEveryBlobTheyUse() throws Exception {
    ShardSnapshotWriter writer = writer(new RetentionPolicy(2, Duration.ZERO));
    for (int checkpoint = 1; checkpoint <= 6; checkpoint++) {
      write(checkpoint * 100, checkpoint * 100 + 100);
      index.delete("p" + (checkpoint * 100 - 50)); // deletes make merges rewrite files
      index.forceMerge(1); // every file of the previous commit is replaced
      writer.capture(index, checkpoint);
      writer.publish(checkpoint);
    }

    assertThat(store.checkpoints(SHARD)).containsExactly(5L, 6L);
    try (ShardSnapshot five = ShardSnapshot.load(store, store.manifest(SHARD, 5));
        ShardSnapshot six = loadLatest()) {
      assertThat(six.documentCount()).isEqualTo(index.size());
      assertThat(five.documentCount()).isLessThan(six.documentCount());
    }
    long referenced = Stream.of(5L, 6L)
        .flatMap(c -> store.manifest(SHARD, c).files().stream())
        .map(SnapshotManifest.SnapshotFile::blob).distinct().count();
    assertThat(blobCount()).isEqualTo(referenced);
  }

  @Test
  void retentionKeepsSnapshotsYoungerThanTheMinimumAge() throws Exception {
    Instant now = Instant.now();
    ShardSnapshotWriter writer = new ShardSnapshotWriter(store, SHARD, 4, "m:1", DIM,
        new RetentionPolicy(1, Duration.ofMinutes(10)), Runnable::run, Clock.fixed(now, ZoneOffset.UTC));
    for (int checkpoint = 1; checkpoint <= 4; checkpoint++) {
      write(checkpoint * 10, checkpoint * 10 + 10);
      writer.capture(index, checkpoint);
      writer.publish(checkpoint);
    }
    assertThat(store.checkpoints(SHARD)).containsExactly(1L, 2L, 3L, 4L);

    var outcome = store.applyRetention(SHARD, new RetentionPolicy(1, Duration.ofMinutes(10)),
        now.plus(Duration.ofMinutes(11)), java.util.Set.of(), Map.of());
    assertThat(store.checkpoints(SHARD)).containsExactly(4L);
    assertThat(outcome.manifestsRemoved()).isEqualTo(3);
    try (ShardSnapshot latest = loadLatest()) {
      assertThat(latest.documentCount()).isEqualTo(40);
    }
  }

  @Test
  void backgroundUploadsFinishBeforeFlushReturns() throws Exception {
    var executor = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      ShardSnapshotWriter writer = new ShardSnapshotWriter(store, SHARD, 4, "m:1", DIM,
          new RetentionPolicy(2, Duration.ZERO), executor, Clock.systemUTC());
      write(0, 500);
      writer.capture(index, 1);
      writer.publish(1);
      writer.flush(30, TimeUnit.SECONDS);

      assertThat(writer.failures()).isZero();
      assertThat(writer.lastPublished().checkpointId()).isEqualTo(1);
      try (ShardSnapshot latest = loadLatest()) {
        assertThat(latest.documentCount()).isEqualTo(500);
      }
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void aNewRunOfTheJobIsNotShadowedByHigherCheckpointIdsOfAnEarlierRun() throws Exception {
    write(0, 30);
    ShardSnapshotWriter earlierRun = writer(new RetentionPolicy(3, Duration.ZERO));
    earlierRun.capture(index, 152);
    earlierRun.publish(152);
    write(30, 40);

    ShardSnapshotWriter newRun = writer(new RetentionPolicy(3, Duration.ZERO));
    newRun.capture(index, 3);
    assertThat(store.checkpoints(SHARD)).as("fenced at the new run's first capture").isEmpty();
    newRun.publish(3);

    assertThat(store.checkpoints(SHARD)).containsExactly(3L);
    assertThat(store.latest(SHARD).orElseThrow().documentCount()).isEqualTo(40);
  }

  @Test
  void aRestoredRunKeepsTheSnapshotsOfItsOwnHistory() throws Exception {
    write(0, 30);
    ShardSnapshotWriter beforeFailure = writer(new RetentionPolicy(3, Duration.ZERO));
    beforeFailure.capture(index, 7);
    beforeFailure.publish(7);

    ShardSnapshotWriter afterRestore = writer(new RetentionPolicy(3, Duration.ZERO));
    afterRestore.capture(index, 9);

    assertThat(store.checkpoints(SHARD)).containsExactly(7L);
    afterRestore.publish(9);
    assertThat(store.checkpoints(SHARD)).containsExactly(7L, 9L);
  }

  private long blobCount() throws IOException {
    try (Stream<Path> blobs = Files.list(folder.resolve("shard-0002/blobs"))) {
      return blobs.filter(p -> !p.getFileName().toString().startsWith(".")).count();
    }
  }
}
