package dev.similarity.flink.index;

import org.apache.lucene.util.VectorUtil;


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
    private int next;
    private int size;

    RecentProbes(int capacity) {
        ids = new String[capacity];
        vectors = new float[capacity][];
        bars = new float[capacity];
        versions = new long[capacity];
    }

    void add(String productId, long version, float[] vector, float bar) {
        ids[next] = productId;
        versions[next] = version;
        vectors[next] = vector;
        bars[next] = bar;
        next = (next + 1) % ids.length;
        size = Math.min(size + 1, ids.length);
    }

    /** Calls {@code beaten} with each recent probe (other than {@code productId}) whose bar the vector beats. */
    void forEachBeaten(String productId, float[] vector, ScoreConsumer beaten) {
        for (int i = 0; i < size; i++) {
            if (ids[i].equals(productId)) continue;
            float score = VectorUtil.dotProduct(vector, vectors[i]);
            if (score > bars[i]) {
                beaten.accept(ids[i], versions[i], score);
            }
        }
    }

    interface ScoreConsumer {
        void accept(String probeProductId, long probeVersion, float score);
    }
}
