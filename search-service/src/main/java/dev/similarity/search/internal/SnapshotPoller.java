package dev.similarity.search.internal;

import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.search.internal.ShardLoader.LoadFailedException;
import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings {@link LiveSnapshots} up to date with the store: for every shard folder, loads the latest
 * published snapshot if it is not the one served, and installs it. Runs off the request path (the
 * service's poller thread, or a caller of {@link #pollOnce}); one poll at a time.
 *
 * <p>A snapshot that fails to load is logged and counted, the served one stays, and the next poll
 * tries again.
 */
public final class SnapshotPoller {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotPoller.class);

  private final SnapshotStore store;
  private final LiveSnapshots live;
  private final ServiceMetrics metrics;
  private final ShardLoader loader;

  /** @param localDir where loaded snapshots are kept, memory-mapped */
  public SnapshotPoller(SnapshotStore store, Path localDir, LiveSnapshots live, ServiceMetrics metrics) {
    this.store = store;
    this.live = live;
    this.metrics = metrics;
    this.loader = new ShardLoader(store, localDir, metrics);
  }

  /** One pass over the store. Never throws: failures are logged and counted. */
  public synchronized void pollOnce() {
    List<Integer> shards;
    try {
      shards = store.shards();
    } catch (RuntimeException e) {
      metrics.polled(true);
      LOG.warn("cannot list the snapshot store {}; serving what is loaded: {}", store.location(), e.getMessage());
      return;
    }
    for (int shard : shards) {
      try {
        refresh(shard);
      } catch (LoadFailedException e) {
        LOG.warn("shard {}: snapshot not loaded ({}), still serving the loaded one; retrying next poll: {}",
            shard, e.reason().name().toLowerCase(java.util.Locale.ROOT), e.getMessage());
      } catch (RuntimeException e) {
        metrics.loadFailed(shard, ServiceMetrics.LoadFailure.IO);
        LOG.warn("shard {}: cannot read its snapshots from {}; retrying next poll", shard, store.location(), e);
      }
    }
    metrics.polled(false);
  }

  private void refresh(int shard) throws LoadFailedException {
    Long served = servedCheckpoint(shard);
    List<Long> published = store.checkpoints(shard);
    if (published.isEmpty() || published.getLast().equals(served)) {
      return;
    }
    SnapshotManifest newest;
    try {
      newest = store.manifest(shard, published.getLast());
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof FileNotFoundException) {
        return; // removed since it was listed; the next poll sees what replaced it
      }
      throw e;
    }
    LoadedShard loaded = loader.load(newest, shard);
    live.install(loaded);
    if (served != null) {
      metrics.snapshotSwapped(shard);
    }
    SnapshotManifest m = loaded.manifest();
    LOG.info("shard {}: serving the snapshot of checkpoint {} ({} products, {} KiB){}", shard,
        m.checkpointId(), m.documentCount(), m.totalBytes() >> 10,
        served == null ? "" : " in place of checkpoint " + served);
  }

  private Long servedCheckpoint(int shard) {
    try (SnapshotView view = live.acquire()) {
      LoadedShard loaded = view.shard(shard);
      return loaded == null ? null : loaded.manifest().checkpointId();
    }
  }
}
