package dev.similarity.index.snapshot;

import dev.similarity.index.ShardCommit;
import dev.similarity.index.ShardIndex;
import dev.similarity.index.snapshot.SnapshotManifest.SnapshotFile;
import dev.similarity.index.snapshot.SnapshotStore.RetentionOutcome;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes one shard index to a {@link SnapshotStore} in step with checkpoints, in two phases:
 *
 * <ol>
 *   <li>{@link #capture} (when a checkpoint is taken, on the index's thread): commits the index and
 *       copies the bytes of commit files not uploaded before, then uploads them in the background.
 *       Nothing is visible yet.
 *   <li>{@link #publish} (when that checkpoint has completed): writes the manifest of the newest
 *       captured snapshot at or before it, after its upload finished, and applies retention.
 * </ol>
 *
 * So a published snapshot equals the index as of a completed checkpoint, never one that may still be
 * rolled back. Lucene never reuses a file name within one index, so a file uploaded once is not
 * copied from the index again while its blob stays intact: every capture that reuses a blob first
 * reads it back from the store and checks its SHA-256 (costing one read of the shard's unchanged
 * files per snapshot). A blob damaged in the store after its upload is never published again: the
 * capture that finds it is dropped, and the next capture copies the file from the index and
 * uploads it again. Captures of one writer must come from one thread; uploads and publications run
 * in order on {@code background}, which must run one task at a time.
 */
public final class ShardSnapshotWriter {

  private static final Logger LOG = LoggerFactory.getLogger(ShardSnapshotWriter.class);

  private final SnapshotStore store;
  private final int shard;
  private final int shardCount;
  private final String modelId;
  private final int dimension;
  private final RetentionPolicy retention;
  private final Executor background;
  private final Clock clock;
  /**
   * Files of this index already in the store (Lucene file names are never reused), by name; a file
   * whose blob was found damaged is removed, so the next capture copies it again.
   */
  private final Map<String, SnapshotFile> uploaded = new ConcurrentHashMap<>();
  /** Captured, not yet published, by checkpoint id; only touched on {@code background}. */
  private final TreeMap<Long, SnapshotManifest> unpublished = new TreeMap<>();
  /** Published by this writer and not yet removed by retention; only touched on {@code background}. */
  private final Map<Long, SnapshotManifest> published = new HashMap<>();
  private CompletableFuture<Void> tail = CompletableFuture.completedFuture(null);
  /** Whether this writer has fenced off manifests of other lineages (done before its first upload). */
  private boolean fenced;
  private volatile SnapshotManifest lastPublished;
  private volatile long failures;

  /**
   * @param background runs uploads and publications; must run one task at a time, in order
   */
  public ShardSnapshotWriter(
      SnapshotStore store,
      int shard,
      int shardCount,
      String modelId,
      int dimension,
      RetentionPolicy retention,
      Executor background,
      Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.shard = shard;
    this.shardCount = shardCount;
    this.modelId = Objects.requireNonNull(modelId, "modelId");
    this.dimension = dimension;
    this.retention = Objects.requireNonNull(retention, "retention");
    this.background = Objects.requireNonNull(background, "background");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Commits {@code index} as the state of checkpoint {@code checkpointId} and starts uploading its
   * new files. Cheap on the calling thread: a Lucene commit (flushing writes since the last one)
   * and an in-memory copy of files not uploaded yet.
   */
  public void capture(ShardIndex index, long checkpointId) {
    ShardCommit commit =
        index.commit(Map.of("checkpoint-id", Long.toString(checkpointId), "shard", Integer.toString(shard)));
    Map<String, byte[]> fresh = new HashMap<>();
    for (String name : commit.fileSizes().keySet()) {
      if (!uploaded.containsKey(name)) {
        fresh.put(name, index.readCommitFile(name));
      }
    }
    int documents = commit.documentCount();
    Instant createdAt = clock.instant();
    enqueue(
        () -> {
          if (!fenced) {
            // Every checkpoint of this history before this one has completed or been abandoned, so a
            // manifest at or after it belongs to another lineage.
            int foreign = store.removeManifestsFrom(shard, checkpointId);
            if (foreign > 0) {
              LOG.warn("shard {}: removed {} snapshot manifests of checkpoint {} or later left by another run of the job",
                  shard, foreign, checkpointId);
            }
            fenced = true;
          }
          List<SnapshotFile> files = new ArrayList<>();
          List<String> damaged = new ArrayList<>();
          Set<String> damagedBlobs = new HashSet<>();
          for (String name : commit.fileSizes().keySet()) {
            byte[] content = fresh.get(name);
            SnapshotFile file;
            if (content != null) {
              file = store.putBlob(shard, name, content);
              uploaded.put(name, file);
            } else {
              // Uploaded by an earlier capture: reuse the blob only if it still holds those bytes.
              file = uploaded.get(name);
              Optional<String> damage = file == null ? Optional.of("was found damaged by an earlier capture")
                  : store.verifyBlob(shard, file);
              if (damage.isPresent()) {
                uploaded.remove(name);
                if (file != null) {
                  damagedBlobs.add(file.blob());
                }
                damaged.add(name + (file == null ? "" : " (blob " + file.blob() + ")") + " " + damage.get());
                continue;
              }
            }
            files.add(file);
          }
          if (!damaged.isEmpty()) {
            // Older captures waiting for their checkpoint name the same blobs: none of them may be published.
            unpublished.values().removeIf(m -> m.files().stream().anyMatch(f -> damagedBlobs.contains(f.blob())));
            throw new IllegalStateException("the snapshot of checkpoint " + checkpointId + " is not published: "
                + "stored files " + String.join(", ", damaged) + "; the next snapshot of the shard uploads them again");
          }
          unpublished.put(
              checkpointId,
              new SnapshotManifest(
                  SnapshotManifest.FORMAT_VERSION,
                  shard,
                  shardCount,
                  checkpointId,
                  commit.generation(),
                  commit.segmentsFileName(),
                  documents,
                  modelId,
                  dimension,
                  createdAt,
                  files));
        },
        "upload snapshot of checkpoint " + checkpointId);
  }

  /**
   * Publishes the newest snapshot captured at or before the completed checkpoint {@code
   * checkpointId} (older captures are dropped unpublished), then applies retention.
   */
  public void publish(long checkpointId) {
    enqueue(
        () -> {
          Map.Entry<Long, SnapshotManifest> newest = unpublished.floorEntry(checkpointId);
          if (newest == null) {
            return;
          }
          unpublished.headMap(checkpointId, true).clear();
          SnapshotManifest manifest = newest.getValue();
          store.publish(manifest);
          published.put(manifest.checkpointId(), manifest);
          lastPublished = manifest;
          Set<String> inUse = new HashSet<>();
          for (SnapshotManifest pending : unpublished.values()) {
            pending.files().forEach(f -> inUse.add(f.blob()));
          }
          RetentionOutcome removed = store.applyRetention(shard, retention, clock.instant(), inUse, published);
          removed.removedCheckpoints().forEach(published::remove);
          LOG.debug(
              "shard {}: published snapshot of checkpoint {} ({} documents, {} bytes); retention removed {}",
              shard, manifest.checkpointId(), manifest.documentCount(), manifest.totalBytes(), removed);
        },
        "publish snapshot of checkpoint " + checkpointId);
  }

  private synchronized void enqueue(Runnable task, String what) {
    tail =
        tail.thenRunAsync(task, background)
            .exceptionally(
                e -> {
                  failures++;
                  LOG.warn("shard {}: {} failed; the next checkpoint tries again", shard, what, e);
                  return null;
                });
  }

  /** Waits until every upload and publication asked for so far has finished (or failed). */
  public void flush(long timeout, TimeUnit unit) throws InterruptedException, TimeoutException {
    Future<Void> last;
    synchronized (this) {
      last = tail;
    }
    try {
      last.get(timeout, unit);
    } catch (ExecutionException e) {
      throw new IllegalStateException("unreachable: failures are counted, not propagated", e);
    }
  }

  /** The last snapshot this writer published, or null. */
  public SnapshotManifest lastPublished() {
    return lastPublished;
  }

  /** Uploads and publications that failed so far. */
  public long failures() {
    return failures;
  }
}
