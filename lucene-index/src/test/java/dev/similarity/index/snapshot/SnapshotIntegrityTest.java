package dev.similarity.index.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.index.ShardIndex;
import dev.similarity.index.snapshot.SnapshotManifest.SnapshotFile;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import dev.similarity.index.tools.ClusteredUnitVectors;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the store and the writer do about damage: bytes changed in the store after an upload, writes
 * that fail half-way, temporary files left by writers that died.
 */
class SnapshotIntegrityTest {

  private static final int DIM = 16;
  private static final int SHARD = 1;

  @TempDir Path folder;
  private SnapshotStore store;
  private ShardIndex index;
  private final ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 8, 1.0, 5);
  private int written;

  @BeforeEach
  void open() {
    store = SnapshotStore.at(folder.toString());
    index = ShardIndex.builder().dimension(DIM).build();
  }

  @AfterEach
  void close() {
    FaultInjectingFileSystem.failWrites(name -> false);
    index.close();
  }

  private ShardSnapshotWriter writer(SnapshotStore target) {
    return new ShardSnapshotWriter(target, SHARD, 2, "test-model:1", DIM, new RetentionPolicy(10, Duration.ofHours(1)),
        Runnable::run, Clock.systemUTC());
  }

  private void write(int count) {
    for (int i = 0; i < count; i++, written++) {
      index.upsert("p" + written, vectors.next(), "c", "http://img/" + written + ".png");
    }
  }

  private Path blobFile(SnapshotFile file) {
    return folder.resolve(String.format("shard-%04d/blobs/%s", SHARD, file.blob()));
  }

  /** The largest file of the snapshot: a segment file that later snapshots share. */
  private static SnapshotFile largest(SnapshotManifest manifest) {
    return manifest.files().stream().max(Comparator.comparingLong(SnapshotFile::size)).orElseThrow();
  }

  private static void flipAByte(Path file) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.seek(raf.length() / 2);
      int b = raf.read();
      raf.seek(raf.length() / 2);
      raf.write(b ^ 0x5a);
    }
  }

  private void assertEveryPublishedSnapshotLoads() throws Exception {
    for (long checkpoint : store.checkpoints(SHARD)) {
      try (ShardSnapshot snapshot = ShardSnapshot.load(store, store.manifest(SHARD, checkpoint))) {
        assertThat(snapshot.documentCount()).as("checkpoint " + checkpoint).isPositive();
      }
    }
  }

  @Test
  void aBlobDamagedInTheStoreAfterItsUploadIsUploadedAgainNotReferencedAgain() throws Exception {
    ShardSnapshotWriter writer = writer(store);
    write(300);
    writer.capture(index, 1);
    writer.publish(1);
    SnapshotFile shared = largest(store.manifest(SHARD, 1));
    flipAByte(blobFile(shared)); // same length, other bytes: bit rot, or a stray writer

    write(10);
    writer.capture(index, 2); // finds the damage: not published, the file is copied again next time
    writer.publish(2);
    write(10);
    writer.capture(index, 3);
    writer.publish(3);

    assertThat(store.checkpoints(SHARD)).containsExactly(1L, 3L);
    assertThat(writer.failures()).isEqualTo(1);
    assertThat(store.manifest(SHARD, 3).files()).as("the repaired blob is shared again").contains(shared);
    assertThat(store.verifyBlob(SHARD, shared)).isEmpty();
    try (ShardSnapshot latest = ShardSnapshot.load(store, store.manifest(SHARD, 3))) {
      assertThat(latest.documentCount()).isEqualTo(320);
    }
    assertEveryPublishedSnapshotLoads(); // checkpoint 1 shares the repaired blob too
  }

  @Test
  void aWriterOfARestartedJobReplacesADamagedBlobOfTheSameNameAndLength() throws Exception {
    write(200);
    ShardSnapshotWriter beforeRestart = writer(store);
    beforeRestart.capture(index, 1);
    beforeRestart.publish(1);
    SnapshotFile shared = largest(store.manifest(SHARD, 1));
    flipAByte(blobFile(shared));

    ShardSnapshotWriter afterRestart = writer(store); // knows nothing of what is in the store
    afterRestart.capture(index, 2);
    afterRestart.publish(2);

    assertThat(afterRestart.failures()).isZero();
    assertThat(store.latest(SHARD).orElseThrow().checkpointId()).isEqualTo(2);
    try (ShardSnapshot latest = ShardSnapshot.load(store, store.latest(SHARD).orElseThrow())) {
      assertThat(latest.documentCount()).isEqualTo(200);
    }
  }

  @Test
  void putBlobChecksTheStoredBytesNotTheirLength() throws Exception {
    byte[] content = "segment bytes that a later snapshot shares".getBytes(StandardCharsets.UTF_8);
    SnapshotFile file = store.putBlob(SHARD, "_0.vec", content);
    flipAByte(blobFile(file));

    store.putBlob(SHARD, "_0.vec", content);

    assertThat(Files.readAllBytes(blobFile(file))).isEqualTo(content);
    assertThat(store.readBlob(SHARD, file)).isEqualTo(content);
  }

  @Test
  void verifyBlobSaysWhatIsWrong() throws Exception {
    SnapshotFile file = store.putBlob(SHARD, "_1.vec", new byte[1000]);
    assertThat(store.verifyBlob(SHARD, file)).isEmpty();
    flipAByte(blobFile(file));
    assertThat(store.verifyBlob(SHARD, file)).hasValueSatisfying(v -> assertThat(v).startsWith("has SHA-256"));
    Files.write(blobFile(file), new byte[10]);
    assertThat(store.verifyBlob(SHARD, file)).hasValue("is 10 bytes, not 1000");
    Files.delete(blobFile(file));
    assertThat(store.verifyBlob(SHARD, file)).hasValue("is missing");
  }

  @Test
  void aManifestWriteThatFailsLeavesNoTemporaryFileBehind() throws Exception {
    SnapshotStore faulty = SnapshotStore.at(FaultInjectingFileSystem.SCHEME + "://" + folder.toAbsolutePath());
    ShardSnapshotWriter writer = writer(faulty);
    write(50);
    FaultInjectingFileSystem.failWrites(name -> name.startsWith(".") && name.contains(".json."));
    int before = FaultInjectingFileSystem.injectedFailures();
    writer.capture(index, 1);
    writer.publish(1);

    assertThat(FaultInjectingFileSystem.injectedFailures()).isGreaterThan(before);
    assertThat(writer.failures()).isEqualTo(1);
    assertThat(faulty.checkpoints(SHARD)).isEmpty();
    assertThat(filesIn("manifests")).as("manifest folder after the failed write").isEmpty();

    FaultInjectingFileSystem.failWrites(name -> false);
    write(10);
    writer.capture(index, 2);
    writer.publish(2);
    assertThat(faulty.checkpoints(SHARD)).containsExactly(2L);
    assertThat(filesIn("manifests")).containsExactly(String.format("%020d.json", 2));
  }

  @Test
  void aBlobWriteThatFailsLeavesNoTemporaryFileBehind() throws Exception {
    SnapshotStore faulty = SnapshotStore.at(FaultInjectingFileSystem.SCHEME + "://" + folder.toAbsolutePath());
    ShardSnapshotWriter writer = writer(faulty);
    write(50);
    FaultInjectingFileSystem.failWrites(name -> name.startsWith(".") && !name.contains(".json."));
    writer.capture(index, 1);
    writer.publish(1);

    assertThat(writer.failures()).isEqualTo(1);
    assertThat(filesIn("blobs")).as("blob folder after the failed write").isEmpty();
  }

  @Test
  void retentionRemovesTemporaryFilesOlderThanTheMinimumAge() throws Exception {
    ShardSnapshotWriter writer = writer(store);
    write(20);
    writer.capture(index, 1);
    writer.publish(1);
    Path manifests = folder.resolve(String.format("shard-%04d/manifests", SHARD));
    Path blobs = folder.resolve(String.format("shard-%04d/blobs", SHARD));
    Path staleManifest = Files.writeString(manifests.resolve(".00000000000000000002.json.dead.tmp"), "");
    Path staleBlob = Files.writeString(blobs.resolve("._9.vec-0123456789abcdef.dead.tmp"), "");
    Path youngManifest = Files.writeString(manifests.resolve(".00000000000000000003.json.busy.tmp"), "");
    Instant now = Instant.now();
    for (Path stale : List.of(staleManifest, staleBlob)) {
      Files.setLastModifiedTime(stale, FileTime.from(now.minus(Duration.ofHours(1))));
    }

    var outcome = store.applyRetention(SHARD, new RetentionPolicy(3, Duration.ofMinutes(10)), now, Set.of(), Map.of());

    assertThat(staleManifest).doesNotExist();
    assertThat(staleBlob).doesNotExist();
    assertThat(youngManifest).as("a write that may still be running").exists();
    assertThat(outcome.temporaryFilesRemoved()).isEqualTo(2);
    assertThat(outcome.blobsRemoved()).isZero();
    assertThat(store.checkpoints(SHARD)).containsExactly(1L);
  }

  private List<String> filesIn(String part) throws IOException {
    Path dir = folder.resolve(String.format("shard-%04d/%s", SHARD, part));
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
