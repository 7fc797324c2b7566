package dev.similarity.flink.index;

import org.apache.lucene.util.VectorUtil;
import org.apache.lucene.util.hnsw.FloatHeap;

import java.util.HashMap;
import java.util.Map;


/**
 * The last probes a shard answered: product, vector, and the best {@code depth} scores this shard has
 * for it, whose lowest is the bar a product written later must beat to belong in its list. A product
 * written after a probe was invisible to it; checking new writes against recent probes closes that race,
 * which otherwise lets two products indexed at about the same time on different shards miss each other.
 *
 * <p>A write that beats a bar takes its place among the probe's best scores, so the bar rises as the
 * shard fills and old probes do not keep drawing candidates their lists reject. Heap only: after a
 * restore the window starts empty.
 */
final class RecentProbes {

    private final int depth;
    private final String[] ids;
    private final float[][] vectors;
    private final long[] versions;
    /**
     * Per slot: the lowest of {@code bestScores}, or -infinity while fewer than depth are known; kept
     * flat so the scan reads no heap object per probe.
     */
    private final float[] bars;
    /** Per slot: the best scores of the probe's product on this shard (Lucene's bounded min-heap). */
    private final FloatHeap[] bestScores;
    /** Product -> sequence number of its newest probe still in the window. */
    private final Map<String, Long> newestProbe = new HashMap<>();
    /** Probes added so far; probe number n sits in slot n % capacity. */
    private long added;
    private int size;

    RecentProbes(int capacity, int depth) {
        this.depth = depth;
        ids = new String[capacity];
        vectors = new float[capacity][];
        versions = new long[capacity];
        bars = new float[capacity];
        bestScores = new FloatHeap[capacity];
    }

    /** Records a probe and the scores of the partial list it got, best first. */
    void add(String productId, long version, float[] vector, float[] partialScoresBestFirst) {
        int slot = (int) (added % ids.length);
        if (ids[slot] != null) {
            newestProbe.remove(ids[slot], added - ids.length);
        }
        ids[slot] = productId;
        versions[slot] = version;
        vectors[slot] = vector;
        if (bestScores[slot] == null) {
            bestScores[slot] = new FloatHeap(depth);
        } else {
            bestScores[slot].clear();
        }
        for (float score : partialScoresBestFirst) {
            bestScores[slot].offer(score);
        }
        bars[slot] = barOf(bestScores[slot]);
        newestProbe.put(productId, added);
        added++;
        size = Math.min(size + 1, ids.length);
    }

    /**
     * Whether {@code productId}'s newest probe is among the last {@code probes} added. Every shard
     * receives every probe, in orders that differ only by what is in flight between them, so a probe
     * well inside this window is still inside every other shard's window of the same capacity.
     */
    boolean holdsRecent(String productId, int probes) {
        Long sequence = newestProbe.get(productId);
        return sequence != null && added - sequence <= probes;
    }

    int capacity() {
        return ids.length;
    }

    /**
     * Calls {@code beaten} with each recent probe (other than {@code productId}) whose bar the vector
     * beats, and counts the vector among that probe's best scores.
     */
    void forEachBeaten(String productId, float[] vector, ScoreConsumer beaten) {
        for (int i = 0; i < size; i++) {
            float score = VectorUtil.dotProduct(vector, vectors[i]);
            // Ids are compared only for the few probes beaten: reading each id costs cache misses.
            if (score > bars[i] && !ids[i].equals(productId)) {
                beaten.accept(ids[i], versions[i], score);
                countAmongBest(i, score);
            }
        }
    }

    private void countAmongBest(int slot, float score) {
        bestScores[slot].offer(score);
        bars[slot] = barOf(bestScores[slot]);
    }

    private float barOf(FloatHeap best) {
        return best.size() < depth ? Float.NEGATIVE_INFINITY : best.peek();
    }

    interface ScoreConsumer {
        void accept(String probeProductId, long probeVersion, float score);
    }
}
