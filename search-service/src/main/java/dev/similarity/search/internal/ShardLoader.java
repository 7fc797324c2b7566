package dev.similarity.search.internal;

import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.SnapshotCorruptException;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.search.internal.ServiceMetrics.LoadFailure;
import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads shard snapshots from the store, checksum-checked, into folders of {@code localDir} that
 * they are memory-mapped from (each deleted when its snapshot is closed). A blob that vanished while
 * loading means retention removed a snapshot the loader was reading because newer ones exist, so
 * the load starts again from the then-latest manifest, up to {@value #MAX_ATTEMPTS} times.
 */
public final class ShardLoader {

  static final int MAX_ATTEMPTS = 3;
  private static final Logger LOG = LoggerFactory.getLogger(ShardLoader.class);

  private final SnapshotStore store;
  private final Path localDir;
  private final ServiceMetrics metrics;
  private final AtomicLong loads = new AtomicLong();

  public ShardLoader(SnapshotStore store, Path localDir, ServiceMetrics metrics) {
    this.store = store;
    this.localDir = localDir;
    this.metrics = metrics;
  }

  /**
   * Loads the snapshot {@code manifest} describes, or the shard's latest if retention removed it
   * meanwhile. The result holds one reference, which {@link LiveSnapshots#install} takes over.
   *
   * @throws LoadFailedException if the snapshot is corrupt, or still missing blobs after retries,
   *     or the store cannot be read; the failure is counted in the metrics
   */
  public LoadedShard load(SnapshotManifest manifest, int shard) throws LoadFailedException {
    SnapshotManifest attempt = manifest;
    for (int tries = 1; ; tries++) {
      if (attempt.shard() != shard) {
        throw failed(shard, LoadFailure.CORRUPT, "the manifest of checkpoint " + attempt.checkpointId()
            + " in the folder of shard " + shard + " names shard " + attempt.shard());
      }
      long start = System.nanoTime();
      try {
        Path folder = localDir.resolve(String.format("shard-%04d-checkpoint-%d-load-%d", shard,
            attempt.checkpointId(), loads.incrementAndGet()));
        ShardSnapshot snapshot = ShardSnapshot.load(store, attempt, folder);
        metrics.snapshotLoaded(shard, Duration.ofNanos(System.nanoTime() - start));
        return new LoadedShard(snapshot, metrics::snapshotClosed);
      } catch (SnapshotCorruptException e) {
        throw failed(shard, LoadFailure.CORRUPT, e.getMessage());
      } catch (UncheckedIOException e) {
        if (!isMissingFile(e)) {
          throw failed(shard, LoadFailure.IO, e.getMessage());
        }
        Optional<SnapshotManifest> latest = store.latest(shard);
        if (latest.isEmpty() || latest.get().checkpointId() == attempt.checkpointId() || tries == MAX_ATTEMPTS) {
          throw failed(shard, LoadFailure.MISSING, e.getMessage() + " (after " + tries + " attempt"
              + (tries == 1 ? "" : "s") + "; the latest manifest is "
              + latest.map(m -> "checkpoint " + m.checkpointId()).orElse("gone") + ")");
        }
        metrics.loadRetried(shard);
        LOG.info("shard {}: snapshot of checkpoint {} lost a blob to retention while loading; loading checkpoint {}",
            shard, attempt.checkpointId(), latest.get().checkpointId());
        attempt = latest.get();
      }
    }
  }

  private LoadFailedException failed(int shard, LoadFailure reason, String message) {
    metrics.loadFailed(shard, reason);
    return new LoadFailedException(reason, message);
  }

  private static boolean isMissingFile(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof FileNotFoundException || t instanceof NoSuchFileException) {
        return true;
      }
    }
    return false;
  }

  /** A shard snapshot that could not be loaded; the served one stays. */
  public static final class LoadFailedException extends Exception {
    private final LoadFailure reason;

    LoadFailedException(LoadFailure reason, String message) {
      super(message);
      this.reason = reason;
    }

    public LoadFailure reason() {
      return reason;
    }
  }
}
