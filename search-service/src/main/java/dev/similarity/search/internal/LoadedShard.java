package dev.similarity.search.internal;

import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.SnapshotManifest;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A loaded shard snapshot shared by the {@link SnapshotView}s that include it. Counted references:
 * one per view holding it; the snapshot is closed when the last view holding it is released, so a
 * request that holds a view can never see one of its snapshots closed.
 */
public final class LoadedShard {

  private static final Logger LOG = LoggerFactory.getLogger(LoadedShard.class);

  private final ShardSnapshot snapshot;
  private final Runnable onClose;
  /** Views holding this shard; 0 means closed, and it never rises again. */
  private final AtomicInteger references = new AtomicInteger(1);

  /**
   * @param onClose runs once, after the snapshot is closed (metrics)
   */
  public LoadedShard(ShardSnapshot snapshot, Runnable onClose) {
    this.snapshot = snapshot;
    this.onClose = onClose;
  }

  public ShardSnapshot snapshot() {
    return snapshot;
  }

  public SnapshotManifest manifest() {
    return snapshot.manifest();
  }

  /** Adds a reference for one more view. Only a view that already holds this shard may call it. */
  void retain() {
    int before = references.getAndIncrement();
    if (before < 1) {
      throw new IllegalStateException("shard " + manifest().shard() + " snapshot at checkpoint "
          + manifest().checkpointId() + " was retained after it was closed");
    }
  }

  /** Drops one reference; the last one closes the snapshot. */
  void release() {
    int after = references.decrementAndGet();
    if (after == 0) {
      try {
        snapshot.close();
      } catch (IOException | RuntimeException e) {
        // A request that let go last must still get its answer: log, never throw.
        LOG.warn("closing the snapshot of shard {} at checkpoint {} failed", manifest().shard(),
            manifest().checkpointId(), e);
      } finally {
        onClose.run();
      }
    } else if (after < 0) {
      throw new IllegalStateException("shard " + manifest().shard() + " snapshot released twice");
    }
  }

  /** Whether the snapshot has been closed. */
  public boolean isClosed() {
    return references.get() == 0;
  }
}
