package dev.similarity.search.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.search.internal.ServiceMetrics.LoadFailure;
import dev.similarity.search.internal.ShardLoader.LoadFailedException;
import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings {@link LiveSnapshots} up to date with the store: for every shard folder, loads the latest
 * published snapshot if it is not the one served, and installs it. Runs off the request path (the
 * service's poller thread, or a caller of {@link #pollOnce}); one poll at a time.
 *
 * <p>A snapshot that fails to load is logged and counted, and the next poll tries it again. Until a
 * newer one loads, the shard falls back to the newest intact snapshot newer than the served one (or
 * any, when none is served): each older snapshot is tried once, newest first. The refusal of the
 * newest stands in {@link ServiceMetrics#refusals()} (health says "degraded") until the shard serves
 * its newest published snapshot again.
 */
public final class SnapshotPoller {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotPoller.class);

  private final SnapshotStore store;
  private final LiveSnapshots live;
  private final ServiceMetrics metrics;
  private final ShardLoader loader;
  /** Older snapshots already refused while falling back, by shard: not downloaded again. */
  private final Map<Integer, Set<Long>> refusedOlder = new HashMap<>();

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
        Long served = servedCheckpoint(shard);
        LOG.warn("shard {}: no newer snapshot could be loaded, still serving {}; retrying next poll",
            shard, served == null ? "none" : "checkpoint " + served);
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
      metrics.newestServed(shard);
      refusedOlder.remove(shard);
      return;
    }
    long newest = published.getLast();
    // Newest first; older ones only as a fallback, and none at or below the served one unless the
    // served one left the store (another run of the job replaced its history).
    List<Long> candidates = new ArrayList<>();
    for (long id : published.reversed()) {
      if (served == null || !published.contains(served) || id > served) {
        candidates.add(id);
      }
    }
    Set<Long> refused = refusedOlder.computeIfAbsent(shard, s -> new HashSet<>());
    refused.retainAll(published);
    LoadFailedException newestFailure = null;
    for (long checkpoint : candidates) {
      if (checkpoint != newest && refused.contains(checkpoint)) {
        continue;
      }
      LoadedShard loaded;
      try {
        loaded = load(shard, checkpoint);
        if (loaded == null) {
          continue; // removed since it was listed
        }
      } catch (LoadFailedException e) {
        if (checkpoint == newest) {
          newestFailure = e;
        } else {
          refused.add(checkpoint);
        }
        LOG.warn("shard {}: snapshot of checkpoint {} not loaded ({}): {}", shard, checkpoint,
            e.reason().name().toLowerCase(Locale.ROOT), e.getMessage());
        if (e.reason() == LoadFailure.IO) {
          break; // the store cannot be read: older snapshots would fail alike
        }
        continue;
      }
      live.install(loaded);
      if (served != null) {
        metrics.snapshotSwapped(shard);
      }
      SnapshotManifest m = loaded.manifest();
      if (newestFailure == null && m.checkpointId() >= newest) {
        metrics.newestServed(shard);
        refused.clear();
      } else {
        refuse(shard, newest, m.checkpointId(), newestFailure);
      }
      LOG.info("shard {}: serving the snapshot of checkpoint {} ({} products, {} KiB){}{}", shard,
          m.checkpointId(), m.documentCount(), m.totalBytes() >> 10,
          served == null ? "" : " in place of checkpoint " + served,
          m.checkpointId() >= newest ? "" : "; the newest, checkpoint " + newest + ", is refused");
      return;
    }
    if (newestFailure != null) {
      refuse(shard, newest, served, newestFailure);
      throw newestFailure;
    }
  }

  /** The shard's snapshot at {@code checkpoint}, loaded; null if its manifest is gone. */
  private LoadedShard load(int shard, long checkpoint) throws LoadFailedException {
    SnapshotManifest manifest;
    try {
      manifest = store.manifest(shard, checkpoint);
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof FileNotFoundException) {
        return null;
      }
      if (e.getCause() instanceof JsonProcessingException) {
        metrics.loadFailed(shard, LoadFailure.CORRUPT);
        throw new LoadFailedException(LoadFailure.CORRUPT, "the manifest of checkpoint " + checkpoint
            + " cannot be read: " + e.getMessage());
      }
      throw e;
    }
    return loader.load(manifest, shard);
  }

  private void refuse(int shard, long checkpoint, Long served, LoadFailedException failure) {
    if (failure == null) {
      return; // the newest vanished while loading and an older one loaded: nothing is refused
    }
    ServiceMetrics.Refusal previous = metrics.refusals().get(shard);
    Instant since = previous != null && previous.checkpointId() == checkpoint ? previous.since() : Instant.now();
    metrics.snapshotRefused(new ServiceMetrics.Refusal(shard, checkpoint, served, failure.reason(),
        failure.getMessage(), since));
  }

  private Long servedCheckpoint(int shard) {
    try (SnapshotView view = live.acquire()) {
      LoadedShard loaded = view.shard(shard);
      return loaded == null ? null : loaded.manifest().checkpointId();
    }
  }
}
