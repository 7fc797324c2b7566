package dev.similarity.index.internal;

import dev.similarity.index.ScoredProduct;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Set;
import org.apache.lucene.util.VectorUtil;

/**
 * Writes made since the searcher's point in time: the vectors upserted since then (searched by
 * brute force, exactly) and the time of the oldest write of any kind (for the age-based refresh).
 *
 * <p>Invariant: an id is in here iff its latest write since the last refresh was an upsert; its
 * older copy, if the searcher has one, is hidden there. So pending ids and visible searcher ids
 * never overlap, and together they are exactly the live products.
 */
public final class PendingWrites {

  private static final Comparator<ScoredProduct> WORST_FIRST =
      Comparator.comparingDouble(ScoredProduct::score)
          .thenComparing(ScoredProduct::productId, Comparator.reverseOrder());

  private record Entry(float[] vector, String category) {}

  private final Map<String, Entry> vectorsById = new HashMap<>();
  private long oldestWriteNanos;
  private boolean hasWrites;

  public void upsert(String productId, float[] vector, String category, long nowNanos) {
    vectorsById.put(productId, new Entry(vector.clone(), category));
    noteWrite(nowNanos);
  }

  /** Forgets {@code productId}; true if it was pending. */
  public boolean delete(String productId, long nowNanos) {
    noteWrite(nowNanos);
    return vectorsById.remove(productId) != null;
  }

  private void noteWrite(long nowNanos) {
    if (!hasWrites) {
      hasWrites = true;
      oldestWriteNanos = nowNanos;
    }
  }

  public boolean contains(String productId) {
    return vectorsById.containsKey(productId);
  }

  /** Number of pending vectors. */
  public int size() {
    return vectorsById.size();
  }

  /** Whether any write (upsert or delete) happened since the last {@link #clear()}. */
  public boolean hasWrites() {
    return hasWrites;
  }

  /** Nanos since the oldest write not yet refreshed; 0 if none. */
  public long ageNanos(long nowNanos) {
    return hasWrites ? nowNanos - oldestWriteNanos : 0;
  }

  public void clear() {
    vectorsById.clear();
    hasWrites = false;
  }

  /**
   * The {@code k} pending products most similar to {@code query} (cosine, best first), of {@code
   * category} if not null, leaving out {@code excludedIds}.
   */
  public List<ScoredProduct> topMatches(
      float[] query, int k, String category, Set<String> excludedIds) {
    if (vectorsById.isEmpty()) {
      return List.of();
    }
    PriorityQueue<ScoredProduct> best = new PriorityQueue<>(Math.min(k, size()) + 1, WORST_FIRST);
    for (Map.Entry<String, Entry> pending : vectorsById.entrySet()) {
      Entry entry = pending.getValue();
      if (category != null && !Objects.equals(category, entry.category())) {
        continue;
      }
      if (excludedIds.contains(pending.getKey())) {
        continue;
      }
      float score = VectorUtil.dotProduct(query, entry.vector());
      if (best.size() < k) {
        best.add(new ScoredProduct(pending.getKey(), score));
      } else {
        ScoredProduct worst = best.peek();
        if (score > worst.score()
            || (score == worst.score() && pending.getKey().compareTo(worst.productId()) < 0)) {
          best.poll();
          best.add(new ScoredProduct(pending.getKey(), score));
        }
      }
    }
    List<ScoredProduct> sorted = new ArrayList<>(best);
    sorted.sort(WORST_FIRST.reversed());
    return sorted;
  }

  /** Best-first order of results: score descending, then product id ascending. */
  public static Comparator<ScoredProduct> bestFirst() {
    return WORST_FIRST.reversed();
  }
}
