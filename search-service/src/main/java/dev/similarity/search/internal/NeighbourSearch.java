package dev.similarity.search.internal;

import dev.similarity.index.snapshot.ShardSnapshot.SnapshotHit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Searches every shard of a view and merges their hits into one top-k, best first. */
public final class NeighbourSearch {

  /** Best score first; equal scores by product id, so the order does not depend on shard order. */
  private static final Comparator<SnapshotHit> BEST_FIRST =
      Comparator.comparing(SnapshotHit::score).reversed().thenComparing(SnapshotHit::productId);

  private final int candidates;

  /** @param candidates HNSW candidates per shard (efSearch); raised to k when k is larger */
  public NeighbourSearch(int candidates) {
    this.candidates = candidates;
  }

  /**
   * The {@code k} products most similar to the unit vector {@code query} over all loaded shards.
   *
   * @param category only products of this category, or null
   * @param excludedId a product never to return, or null
   * @param excludedImageKey an image none of whose products to return (the excluded product's), or null
   */
  public List<SnapshotHit> search(SnapshotView view, float[] query, int k, String category, String excludedId,
      String excludedImageKey) {
    List<SnapshotHit> all = new ArrayList<>(k * view.shards().size());
    for (LoadedShard shard : view.shards()) {
      all.addAll(shard.snapshot().search(query, k, category, excludedId, excludedImageKey, Math.max(candidates, k)));
    }
    all.sort(BEST_FIRST);
    List<SnapshotHit> top = new ArrayList<>(k);
    Set<String> seen = new HashSet<>();
    for (SnapshotHit hit : all) {
      if (top.size() == k) {
        break;
      }
      // A product lives in one shard; a duplicate can only come from snapshots taken across a move.
      if (seen.add(hit.productId())) {
        top.add(hit);
      }
    }
    return top;
  }
}
