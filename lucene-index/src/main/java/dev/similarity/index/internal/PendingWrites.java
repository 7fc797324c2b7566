package dev.similarity.index.internal;

import dev.similarity.index.ScoredProduct;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

  // Pending products live in slots 0..size-1 of parallel arrays, so a search scans them in order
  // instead of chasing hash-map entries; a delete moves the last slot into the freed one.
  private final Map<String, Integer> slotById = new HashMap<>();
  private String[] ids = new String[64];
  private float[][] vectors = new float[64][];
  private String[] categories = new String[64];
  private int size;
  private long oldestWriteNanos;
  private boolean hasWrites;

  public void upsert(String productId, float[] vector, String category, long nowNanos) {
    Integer slot = slotById.get(productId);
    if (slot == null) {
      if (size == ids.length) {
        int capacity = size * 2;
        ids = Arrays.copyOf(ids, capacity);
        vectors = Arrays.copyOf(vectors, capacity);
        categories = Arrays.copyOf(categories, capacity);
      }
      slot = size++;
      slotById.put(productId, slot);
      ids[slot] = productId;
    }
    vectors[slot] = vector.clone();
    categories[slot] = category;
    noteWrite(nowNanos);
  }

  /** Forgets {@code productId}; true if it was pending. */
  public boolean delete(String productId, long nowNanos) {
    noteWrite(nowNanos);
    Integer slot = slotById.remove(productId);
    if (slot == null) {
      return false;
    }
    int last = --size;
    if (slot != last) {
      ids[slot] = ids[last];
      vectors[slot] = vectors[last];
      categories[slot] = categories[last];
      slotById.put(ids[slot], slot);
    }
    ids[last] = null;
    vectors[last] = null;
    categories[last] = null;
    return true;
  }

  private void noteWrite(long nowNanos) {
    if (!hasWrites) {
      hasWrites = true;
      oldestWriteNanos = nowNanos;
    }
  }

  public boolean contains(String productId) {
    return slotById.containsKey(productId);
  }

  /** Number of pending vectors. */
  public int size() {
    return size;
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
    slotById.clear();
    Arrays.fill(ids, 0, size, null);
    Arrays.fill(vectors, 0, size, null);
    Arrays.fill(categories, 0, size, null);
    size = 0;
    hasWrites = false;
  }

  /**
   * The {@code k} pending products most similar to {@code query} (cosine, best first), of {@code
   * category} if not null, leaving out {@code excludedIds}.
   */
  public List<ScoredProduct> topMatches(
      float[] query, int k, String category, Set<String> excludedIds) {
    if (size == 0) {
      return List.of();
    }
    PriorityQueue<ScoredProduct> best = new PriorityQueue<>(Math.min(k, size) + 1, WORST_FIRST);
    for (int slot = 0; slot < size; slot++) {
      if (category != null && !category.equals(categories[slot])) {
        continue;
      }
      float score = VectorUtil.dotProduct(query, vectors[slot]);
      // Ids are read only for vectors that would rank: each read costs cache misses.
      if (best.size() == k && score < best.peek().score()) {
        continue;
      }
      String id = ids[slot];
      if (!excludedIds.isEmpty() && excludedIds.contains(id)) {
        continue;
      }
      offer(best, k, id, score);
    }
    List<ScoredProduct> sorted = new ArrayList<>(best);
    sorted.sort(WORST_FIRST.reversed());
    return sorted;
  }

  /**
   * {@link #topMatches(float[], int, String, Set)} for queries {@code from} to {@code to} - 1 of
   * {@code queries} at once, element i being query {@code from + i}'s. Each pending vector is read
   * from memory once for all of them, where separate calls read the whole buffer once per query
   * (the scan is memory-bound beyond about 1 MB of vectors).
   */
  public List<List<ScoredProduct>> topMatches(
      float[][] queries, int from, int to, int k, String category, Set<String> excludedIds) {
    int count = to - from;
    List<List<ScoredProduct>> results = new ArrayList<>(count);
    if (size == 0) {
      for (int q = 0; q < count; q++) {
        results.add(List.of());
      }
      return results;
    }
    @SuppressWarnings("unchecked")
    PriorityQueue<ScoredProduct>[] best = new PriorityQueue[count];
    for (int q = 0; q < count; q++) {
      best[q] = new PriorityQueue<>(Math.min(k, size) + 1, WORST_FIRST);
    }
    for (int slot = 0; slot < size; slot++) {
      if (category != null && !category.equals(categories[slot])) {
        continue;
      }
      float[] vector = vectors[slot];
      for (int q = 0; q < count; q++) {
        float score = VectorUtil.dotProduct(queries[from + q], vector);
        PriorityQueue<ScoredProduct> top = best[q];
        if (top.size() == k && score < top.peek().score()) {
          continue;
        }
        String id = ids[slot];
        if (!excludedIds.isEmpty() && excludedIds.contains(id)) {
          continue;
        }
        offer(top, k, id, score);
      }
    }
    for (int q = 0; q < count; q++) {
      List<ScoredProduct> sorted = new ArrayList<>(best[q]);
      sorted.sort(WORST_FIRST.reversed());
      results.add(sorted);
    }
    return results;
  }

  private static void offer(PriorityQueue<ScoredProduct> best, int k, String id, float score) {
    if (best.size() < k) {
      best.add(new ScoredProduct(id, score));
    } else {
      ScoredProduct worst = best.peek();
      if (score > worst.score() || (score == worst.score() && id.compareTo(worst.productId()) < 0)) {
        best.poll();
        best.add(new ScoredProduct(id, score));
      }
    }
  }

  /** Best-first order of results: score descending, then product id ascending. */
  public static Comparator<ScoredProduct> bestFirst() {
    return WORST_FIRST.reversed();
  }
}
