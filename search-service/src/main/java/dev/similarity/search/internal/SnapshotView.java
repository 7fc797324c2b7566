package dev.similarity.search.internal;

import dev.similarity.index.snapshot.SnapshotManifest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An immutable set of loaded shard snapshots, at most one per shard: what one request searches.
 *
 * <p>Counted references: one for {@link LiveSnapshots} while the view is current, one per request
 * using it. When the count reaches 0 the view releases its shards, and it can never be acquired
 * again ({@link #tryAcquire} fails), so a request either holds a live view or retries with the
 * newer current one.
 */
public final class SnapshotView implements AutoCloseable {

  private final Map<Integer, LoadedShard> shards;
  private final AtomicInteger references = new AtomicInteger(1);
  /** Fixed with the shards, so requests do not recompute them. */
  private final SnapshotManifest reference;
  private final List<String> problems;

  private SnapshotView(Map<Integer, LoadedShard> shards) {
    this.shards = Collections.unmodifiableMap(shards);
    this.reference = shards.values().stream()
        .map(LoadedShard::manifest)
        .max(Comparator.comparing(SnapshotManifest::createdAt))
        .orElse(null);
    this.problems = List.copyOf(findProblems());
  }

  /** A view without shards. */
  static SnapshotView empty() {
    return new SnapshotView(new TreeMap<>());
  }

  /** A view of exactly {@code loaded} (one per shard), taking over each one's initial reference. */
  static SnapshotView of(Collection<LoadedShard> loaded) {
    TreeMap<Integer, LoadedShard> shards = new TreeMap<>();
    for (LoadedShard shard : loaded) {
      if (shards.put(shard.manifest().shard(), shard) != null) {
        throw new IllegalArgumentException("two snapshots of shard " + shard.manifest().shard() + " for one view");
      }
    }
    return new SnapshotView(shards);
  }

  /**
   * This view with {@code loaded} in place of its shard's current snapshot. The new view holds a
   * reference to every shard it shares with this one and takes over {@code loaded}'s initial
   * reference. Call only while holding this view.
   */
  SnapshotView with(LoadedShard loaded) {
    TreeMap<Integer, LoadedShard> next = new TreeMap<>(shards);
    next.put(loaded.manifest().shard(), loaded);
    for (LoadedShard kept : next.values()) {
      if (kept != loaded) {
        kept.retain();
      }
    }
    return new SnapshotView(next);
  }

  /** Takes a reference unless the view was already released by everyone; then returns false. */
  boolean tryAcquire() {
    while (true) {
      int count = references.get();
      if (count == 0) {
        return false;
      }
      if (references.compareAndSet(count, count + 1)) {
        return true;
      }
    }
  }

  /** Drops this holder's reference; the last one releases the view's shards. */
  @Override
  public void close() {
    int after = references.decrementAndGet();
    if (after == 0) {
      shards.values().forEach(LoadedShard::release);
    } else if (after < 0) {
      throw new IllegalStateException("snapshot view released more often than acquired");
    }
  }

  /** The shard's loaded snapshot, or null if none is loaded. */
  public LoadedShard shard(int shard) {
    return shards.get(shard);
  }

  /** Loaded shards, by shard number. */
  public Collection<LoadedShard> shards() {
    return shards.values();
  }

  /** Checkpoint id of each loaded shard, by shard number. */
  public Map<Integer, Long> checkpoints() {
    Map<Integer, Long> checkpoints = new LinkedHashMap<>();
    shards.forEach((shard, loaded) -> checkpoints.put(shard, loaded.manifest().checkpointId()));
    return checkpoints;
  }

  /** Live products over all loaded shards. */
  public long documentCount() {
    long count = 0;
    for (LoadedShard loaded : shards.values()) {
      count += loaded.snapshot().documentCount();
    }
    return count;
  }

  /**
   * The manifest that says what the index should look like: the most recently created one. The
   * shard count, model and dimension of the other shards are checked against it.
   */
  public SnapshotManifest reference() {
    return reference;
  }

  /**
   * Why this view cannot answer for the whole index, empty when it can: shards with no snapshot,
   * and shards whose snapshot disagrees with the {@link #reference()} on shard count, model or
   * vector dimension (their scores would not be comparable).
   */
  public List<String> problems() {
    return problems;
  }

  private List<String> findProblems() {
    List<String> problems = new ArrayList<>();
    if (reference == null) {
      problems.add("no shard snapshot is loaded");
      return problems;
    }
    List<Integer> missing = new ArrayList<>();
    for (int shard = 0; shard < reference.shardCount(); shard++) {
      if (!shards.containsKey(shard)) {
        missing.add(shard);
      }
    }
    if (!missing.isEmpty()) {
      problems.add("no snapshot of shard" + (missing.size() > 1 ? "s " : " ") + join(missing)
          + " of " + reference.shardCount() + " is loaded");
    }
    for (LoadedShard loaded : shards.values()) {
      SnapshotManifest m = loaded.manifest();
      if (m.shardCount() != reference.shardCount()) {
        problems.add("shard " + m.shard() + " (checkpoint " + m.checkpointId() + ") belongs to an index of "
            + m.shardCount() + " shards; the newest snapshot (shard " + reference.shard() + ") says "
            + reference.shardCount());
      }
      if (!m.modelId().equals(reference.modelId()) || m.dimension() != reference.dimension()) {
        problems.add("shard " + m.shard() + " (checkpoint " + m.checkpointId() + ") holds "
            + m.dimension() + "-dimensional vectors of model " + m.modelId() + "; the newest snapshot has "
            + reference.dimension() + "-dimensional vectors of model " + reference.modelId());
      }
    }
    return problems;
  }

  private static String join(List<Integer> shards) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < shards.size(); i++) {
      out.append(i == 0 ? "" : i == shards.size() - 1 ? " and " : ", ").append(shards.get(i));
    }
    return out.toString();
  }
}
