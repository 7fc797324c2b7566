package dev.similarity.flink.index;

import org.apache.lucene.util.VectorUtil;

import java.util.HashMap;
import java.util.Map;


/**
 * The last probes a shard answered: product, vector, and the lowest score in the partial list it sent
 * (the bar a later product must beat to have entered it). A product written after such a probe was
 * invisible to it; checking new writes against recent probes closes that race, which otherwise lets
 * two products indexed at about the same time on different shards miss each other. Heap only: after a
 * restore the window starts empty.
 */
final class RecentProbes {

    private final String[] ids;
    private final float[][] vectors;
    private final float[] bars;
    private final long[] versions;
    /** Product -> sequence number of its newest probe still in the window. */
    private final Map<String, Long> newestProbe = new HashMap<>();
    /** Probes added so far; probe number n sits in slot n % capacity. */
    private long added;
    private int size;

    RecentProbes(int capacity) {
        ids = new String[capacity];
        vectors = new float[capacity][];
        bars = new float[capacity];
        versions = new long[capacity];
    }

    void add(String productId, long version, float[] vector, float bar) {
        int slot = (int) (added % ids.length);
        if (ids[slot] != null) {
            newestProbe.remove(ids[slot], added - ids.length);
        }
        ids[slot] = productId;
        versions[slot] = version;
        vectors[slot] = vector;
        bars[slot] = bar;
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

    /** Calls {@code beaten} with each recent probe (other than {@code productId}) whose bar the vector beats. */
    void forEachBeaten(String productId, float[] vector, ScoreConsumer beaten) {
        for (int i = 0; i < size; i++) {
            float score = VectorUtil.dotProduct(vector, vectors[i]);
            // Ids are compared only for the few probes beaten: reading each id costs cache misses.
            if (score > bars[i] && !ids[i].equals(productId)) {
                beaten.accept(ids[i], versions[i], score);
            }
        }
    }

    interface ScoreConsumer {
        void accept(String probeProductId, long probeVersion, float score);
    }
}
