package dev.similarity.flink.index;

import dev.similarity.index.Int8Codes;
import org.apache.lucene.util.VectorUtil;
import org.apache.lucene.util.hnsw.FloatHeap;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;


/**
 * The last probes a shard answered: product, vector, and the best {@code depth} scores this shard has
 * for it, whose lowest is the bar a product written later must beat to belong in its list. A product
 * written after a probe was invisible to it; checking new writes against recent probes closes that race,
 * which otherwise lets two products indexed at about the same time on different shards miss each other.
 * (Lists beyond the window are kept by each node's bar on its own shard: {@link NodeBars}.)
 *
 * <p>A write that beats a bar takes its place among the probe's best scores, so the bar rises as the
 * shard fills and old probes do not keep drawing candidates their lists reject.
 *
 * <p>The window survives restores: each probe is also kept in the shard's checkpointed state as it was
 * added ({@link Probe}), and {@link #restore} rebuilds the window from those. Bars raised after a probe
 * was added are not kept, so a restored probe's bar can be lower than before: it may draw candidates its
 * list rejects again, never miss one.
 */
final class RecentProbes {

    private final int depth;
    private final String[] ids;
    /**
     * Per slot: a copy of the probe's vector. All slots are allocated together at the first probe, so
     * that they lie next to each other in memory: the scan of every write reads them all in order, and
     * vectors scattered over the heap (as messages leave them) made it three times slower.
     */
    private final float[][] vectors;
    /**
     * Per slot: the probe vector's int8 code and scale ({@link Int8Codes}), allocated together like the
     * vectors. The scan reads the codes (a quarter of the bytes) and rescores exactly only the probes
     * whose bar the code's score, plus its error bound, reaches: the same probes are beaten as by exact
     * scores alone.
     */
    private final byte[][] codes;
    private final float[] codeScales;
    /** Per slot: {@link Int8Codes#errorNorm} of the code, and the vector's norm. */
    private final float[] codeErrors;
    private final float[] norms;
    private final long[] versions;
    /**
     * Per slot: the lowest of {@code bestScores}, or -infinity while fewer than depth are known; kept
     * flat so the scan reads no heap object per probe.
     */
    private final float[] bars;
    /** Per slot: the best scores of the probe's product on this shard (Lucene's bounded min-heap). */
    private final FloatHeap[] bestScores;
    /** Probes added so far; probe number n sits in slot n % capacity. */
    private long added;
    private int size;

    RecentProbes(int capacity, int depth) {
        this.depth = depth;
        ids = new String[capacity];
        vectors = new float[capacity][];
        codes = new byte[capacity][];
        codeScales = new float[capacity];
        codeErrors = new float[capacity];
        norms = new float[capacity];
        versions = new long[capacity];
        bars = new float[capacity];
        bestScores = new FloatHeap[capacity];
    }

    /** A probe as checkpointed state keeps it: what {@link #add} was given, and its sequence number. */
    record Probe(long sequence, String productId, long version, float[] vector, float[] scores) {

        byte[] encode() {
            byte[] id = productId.getBytes(StandardCharsets.UTF_8);
            ByteBuffer out = ByteBuffer.allocate(8 + 8 + 4 + id.length + 4 + 4 * vector.length + 4 + 4 * scores.length);
            out.putLong(sequence).putLong(version).putInt(id.length).put(id).putInt(vector.length);
            for (float v : vector) out.putFloat(v);
            out.putInt(scores.length);
            for (float v : scores) out.putFloat(v);
            return out.array();
        }

        static Probe decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            long sequence = in.getLong();
            long version = in.getLong();
            byte[] id = new byte[in.getInt()];
            in.get(id);
            float[] vector = new float[in.getInt()];
            for (int i = 0; i < vector.length; i++) vector[i] = in.getFloat();
            float[] scores = new float[in.getInt()];
            for (int i = 0; i < scores.length; i++) scores[i] = in.getFloat();
            return new Probe(sequence, new String(id, StandardCharsets.UTF_8), version, vector, scores);
        }
    }

    /** The slot a probe of this sequence number occupies (checkpointed state keys probes by it). */
    int slotOf(long sequence) {
        return (int) (sequence % ids.length);
    }

    /**
     * Rebuilds the window from checkpointed probes, in any order: the newest {@link #capacity()} of them,
     * in their original order, each with the scores it was added with.
     *
     * @return the probes kept, for state to re-key by {@link #slotOf} (the capacity may have changed)
     */
    List<Probe> restore(Collection<Probe> persisted) {
        List<Probe> sorted = new ArrayList<>(persisted);
        sorted.sort(Comparator.comparingLong(Probe::sequence));
        List<Probe> kept = sorted.subList(Math.max(0, sorted.size() - ids.length), sorted.size());
        for (Probe probe : kept) {
            added = probe.sequence();
            add(probe.productId(), probe.version(), probe.vector(), probe.scores());
        }
        return kept;
    }

    /**
     * Records a probe and the scores of the partial list it got, best first.
     *
     * @return the probe as checkpointed state keeps it
     */
    Probe add(String productId, long version, float[] vector, float[] partialScoresBestFirst) {
        long sequence = added;
        int slot = (int) (added % ids.length);
        if (vectors[slot] == null) {
            for (int i = 0; i < vectors.length; i++) vectors[i] = new float[vector.length];
            for (int i = 0; i < codes.length; i++) codes[i] = new byte[vector.length];
        }
        if (vector.length != vectors[slot].length) {
            throw new IllegalArgumentException("probe vectors have " + vectors[slot].length + " dimensions, got " + vector.length);
        }
        ids[slot] = productId;
        versions[slot] = version;
        System.arraycopy(vector, 0, vectors[slot], 0, vector.length);
        codeScales[slot] = Int8Codes.scaleOf(vector);
        codeErrors[slot] = Int8Codes.errorNorm(vector.length, codeScales[slot]);
        norms[slot] = (float) Math.sqrt(VectorUtil.dotProduct(vector, vector));
        System.arraycopy(Int8Codes.encode(vector, codeScales[slot]), 0, codes[slot], 0, vector.length);
        if (bestScores[slot] == null) {
            bestScores[slot] = new FloatHeap(depth);
        } else {
            bestScores[slot].clear();
        }
        for (float score : partialScoresBestFirst) {
            bestScores[slot].offer(score);
        }
        bars[slot] = barOf(bestScores[slot]);
        added++;
        size = Math.min(size + 1, ids.length);
        return new Probe(sequence, productId, version, vector, partialScoresBestFirst);
    }

    int capacity() {
        return ids.length;
    }

    /**
     * Calls {@code beaten} with each recent probe (other than {@code productId}) whose bar the vector
     * beats, and counts the vector among that probe's best scores.
     */
    void forEachBeaten(String productId, float[] vector, ScoreConsumer beaten) {
        float scale = Int8Codes.scaleOf(vector);
        byte[] code = Int8Codes.encode(vector, scale);
        float error = Int8Codes.errorNorm(vector.length, scale);
        float norm = (float) Math.sqrt(VectorUtil.dotProduct(vector, vector));
        // The probes are the last `size` added: slots (added - size) .. (added - 1), modulo the capacity (after a
        // restore into a larger window they need not start at slot 0).
        int first = (int) ((added - size) % ids.length);
        for (int n = 0, i = first; n < size; n++, i = i + 1 == ids.length ? 0 : i + 1) {
            // The exact score is within the bound of the codes' one, so a probe the latter cannot beat is skipped.
            if (!(Int8Codes.dot(code, scale, codes[i], codeScales[i])
                    + Int8Codes.dotErrorBound(code.length, norm, error, norms[i], codeErrors[i]) > bars[i])) {
                continue;
            }
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
