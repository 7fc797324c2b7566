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
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
 *
 * <p>A view serves one model. When the job starts publishing snapshots of another model (another
 * id or dimension), the served view stays complete on the old model until every shard's newest
 * snapshot is of the new one; then the whole view is replaced at once ({@link #pollOnce}).
 */
public final class SnapshotPoller {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotPoller.class);

  private final SnapshotStore store;
  private final LiveSnapshots live;
  private final ServiceMetrics metrics;
  private final ShardLoader loader;
  /**
   * A switch to another model under way: its model, the shards whose newest snapshot of it is
   * loaded and held aside, and the shard count of its snapshots.
   */
  public record PendingSwitch(SnapshotModel to, List<Integer> shardsReady, int shardCount) {}

  /** What {@link #pendingSwitch} answers; written at the end of each poll. */
  private volatile PendingSwitch pending;
  /** Newest snapshots of another model than the served one, by shard, until every shard has one. */
  private final Map<Integer, LoadedShard> staged = new TreeMap<>();
  /** Older snapshots already refused while falling back, by shard: not downloaded again. */
  private final Map<Integer, Set<Long>> refusedOlder = new HashMap<>();

  /** @param localDir where loaded snapshots are kept, memory-mapped */
  public SnapshotPoller(SnapshotStore store, Path localDir, LiveSnapshots live, ServiceMetrics metrics) {
    this.store = store;
    this.live = live;
    this.metrics = metrics;
    this.loader = new ShardLoader(store, localDir, metrics);
  }

  /**
   * One pass over the store. Never throws: failures are logged and counted.
   *
   * <p>Shards whose newest snapshot is of the served model are brought up to date one by one. A
   * shard whose newest snapshot is of another model (the job is switching models) keeps serving
   * its snapshot of the served model; its new one is loaded and held aside. When every shard's
   * newest snapshot is of one other model and all of them are loaded, they replace the whole view
   * at once: a view never holds two models.
   */
  public synchronized void pollOnce() {
    List<Integer> shards;
    try {
      shards = store.shards();
    } catch (RuntimeException e) {
      metrics.polled(true);
      LOG.warn("cannot list the snapshot store {}; serving what is loaded: {}", store.location(), e.getMessage());
      return;
    }
    // One listing and at most one manifest read per shard and poll; refresh and stage reuse them.
    Map<Integer, List<Long>> listed = new TreeMap<>();
    Map<Integer, SnapshotManifest> newest = new TreeMap<>();
    for (int shard : shards) {
      try {
        List<Long> published = store.checkpoints(shard);
        listed.put(shard, published);
        SnapshotManifest m = newestManifest(shard, published);
        if (m != null) {
          newest.put(shard, m);
        }
      } catch (RuntimeException e) {
        metrics.loadFailed(shard, ServiceMetrics.LoadFailure.IO);
        LOG.warn("shard {}: cannot read its snapshots from {}; retrying next poll", shard, store.location(), e);
      }
    }
    SnapshotModel serving = servingModel();
    SnapshotModel required = serving != null ? serving : startingModel(newest);
    for (int shard : listed.keySet()) {
      List<Long> published = listed.get(shard);
      SnapshotManifest latest = newest.get(shard);
      try {
        if (latest == null || required == null || SnapshotModel.of(latest).equals(required)) {
          LoadedShard stale = staged.remove(shard);
          if (stale != null) {
            stale.release(); // the shard went back to the served model
          }
          refresh(shard, required, published, latest);
        } else {
          // Its newest of the served (or, at start, the older) model, if newer than the served one.
          refresh(shard, required, published, latest);
          if (serving != null) {
            stage(shard, latest);
          }
        }
      } catch (LoadFailedException e) {
        Long served = servedCheckpoint(shard);
        LOG.warn("shard {}: no newer snapshot could be loaded, still serving {}; retrying next poll",
            shard, served == null ? "none" : "checkpoint " + served);
      } catch (RuntimeException e) {
        metrics.loadFailed(shard, ServiceMetrics.LoadFailure.IO);
        LOG.warn("shard {}: cannot read its snapshots from {}; retrying next poll", shard, store.location(), e);
      }
    }
    switchModelIfComplete(serving, newest);
    pending = staged.isEmpty() ? null : new PendingSwitch(SnapshotModel.of(staged.values().iterator().next().manifest()),
        List.copyOf(staged.keySet()), staged.values().iterator().next().manifest().shardCount());
    metrics.polled(false);
  }

  /** The switch to another model under way as of the last poll, or null when there is none. */
  public PendingSwitch pendingSwitch() {
    return pending;
  }

  /** Staged snapshots of another model are released; the served view is {@link LiveSnapshots}'. */
  public synchronized void close() {
    staged.values().forEach(LoadedShard::release);
    staged.clear();
    pending = null;
  }

  /**
   * The manifest of the newest of {@code published}, or null when there is none or it cannot be
   * read (refresh says why).
   */
  private SnapshotManifest newestManifest(int shard, List<Long> published) {
    try {
      if (published.isEmpty()) {
        return null;
      }
      LoadedShard served = servedShard(shard);
      if (served != null && served.manifest().checkpointId() == published.getLast()) {
        return served.manifest();
      }
      LoadedShard held = staged.get(shard);
      if (held != null && held.manifest().checkpointId() == published.getLast()) {
        return held.manifest();
      }
      return store.manifest(shard, published.getLast());
    } catch (RuntimeException e) {
      return null;
    }
  }

  /**
   * With nothing served yet: the model of the shards' newest snapshots when they agree; while the
   * job switches models (they disagree), the model of the oldest of them, which every shard
   * published before the switch began.
   */
  private static SnapshotModel startingModel(Map<Integer, SnapshotManifest> newest) {
    return newest.values().stream()
        .min(Comparator.comparing(SnapshotManifest::createdAt))
        .map(SnapshotModel::of)
        .orElse(null);
  }

  /** Loads the shard's newest snapshot, of another model than the served one, and holds it aside. */
  private void stage(int shard, SnapshotManifest latest) throws LoadFailedException {
    LoadedShard held = staged.get(shard);
    if (held != null && held.manifest().checkpointId() == latest.checkpointId()) {
      return;
    }
    LoadedShard loaded = loader.load(latest, shard);
    if (!SnapshotModel.of(loaded.manifest()).equals(SnapshotModel.of(latest))) {
      loaded.release(); // retention replaced it by a snapshot of yet another model: next poll
      return;
    }
    if (held != null) {
      held.release();
    }
    staged.put(shard, loaded);
    LOG.info("shard {}: snapshot of checkpoint {} is of model {}, not the served {}; held until every shard's"
        + " newest snapshot is of that model", shard, latest.checkpointId(), SnapshotModel.of(latest),
        servingModel());
  }

  /**
   * Replaces the whole view by the staged snapshots when every shard's newest snapshot is of one
   * model other than {@code serving} and each of them is staged.
   */
  private void switchModelIfComplete(SnapshotModel serving, Map<Integer, SnapshotManifest> newest) {
    if (serving == null || newest.isEmpty()) {
      return;
    }
    SnapshotManifest any = newest.values().iterator().next();
    SnapshotModel target = SnapshotModel.of(any);
    if (target.equals(serving) || newest.size() != any.shardCount()) {
      return;
    }
    for (int shard = 0; shard < any.shardCount(); shard++) {
      SnapshotManifest m = newest.get(shard);
      LoadedShard held = staged.get(shard);
      if (m == null || !SnapshotModel.of(m).equals(target) || m.shardCount() != any.shardCount()
          || held == null || held.manifest().checkpointId() != m.checkpointId()) {
        return;
      }
    }
    Map<Integer, Long> before = servedCheckpoints();
    live.replaceAll(List.copyOf(staged.values()));
    staged.clear();
    refusedOlder.clear();
    for (int shard : newest.keySet()) {
      metrics.snapshotSwapped(shard);
      metrics.newestServed(shard);
    }
    LOG.info("switched every shard from model {} (checkpoints {}) to model {} (checkpoints {})", serving, before,
        target, servedCheckpoints());
  }

  /**
   * Serves the shard's newest snapshot of the {@code required} model (null: any) among {@code
   * published}, falling back to older ones; {@code latest} is the newest's manifest if read already.
   */
  private void refresh(int shard, SnapshotModel required, List<Long> published, SnapshotManifest latest)
      throws LoadFailedException {
    Long served = servedCheckpoint(shard);
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
        loaded = load(shard, checkpoint, required, latest);
        if (loaded == null) {
          continue; // removed since it was listed, or of another model
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
          m.checkpointId() >= newest ? "" : "; the newest, checkpoint " + newest + ", is " + (newestFailure == null
              ? "of another model" : "refused"));
      return;
    }
    if (newestFailure != null) {
      refuse(shard, newest, served, newestFailure);
      throw newestFailure;
    }
  }

  /**
   * The shard's snapshot at {@code checkpoint}, loaded; null if its manifest is gone or it is not
   * of the {@code required} model (null: any).
   */
  private LoadedShard load(int shard, long checkpoint, SnapshotModel required, SnapshotManifest known)
      throws LoadFailedException {
    SnapshotManifest manifest;
    try {
      manifest = known != null && known.checkpointId() == checkpoint ? known : store.manifest(shard, checkpoint);
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
    if (required != null && !SnapshotModel.of(manifest).equals(required)) {
      return null;
    }
    LoadedShard loaded = loader.load(manifest, shard);
    if (required != null && !SnapshotModel.of(loaded.manifest()).equals(required)) {
      loaded.release(); // the loader fell back to the latest, which is of another model
      return null;
    }
    return loaded;
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
    LoadedShard loaded = servedShard(shard);
    return loaded == null ? null : loaded.manifest().checkpointId();
  }

  /** The shard's served snapshot; only its manifest may be read after the view is released. */
  private LoadedShard servedShard(int shard) {
    try (SnapshotView view = live.acquire()) {
      return view.shard(shard);
    }
  }

  private Map<Integer, Long> servedCheckpoints() {
    try (SnapshotView view = live.acquire()) {
      return view.checkpoints();
    }
  }

  /** The model of the served view, or null when nothing is served. */
  private SnapshotModel servingModel() {
    try (SnapshotView view = live.acquire()) {
      return view.reference() == null ? null : SnapshotModel.of(view.reference());
    }
  }
}
