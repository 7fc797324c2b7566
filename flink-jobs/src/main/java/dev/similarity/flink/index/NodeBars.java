package dev.similarity.flink.index;

import org.apache.lucene.util.VectorUtil;
import org.apache.lucene.util.hnsw.FloatHeap;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The bars of one shard's own image nodes, for reverse updates: for each node p, the best {@code depth}
 * (k + reserve) scores p is known to have, whose lowest is the score a new image must beat to enter
 * p's list (-infinity while fewer than depth are known).
 *
 * <p>Invariant: a node's known scores are similarities of p to images that entered p's list or were
 * offered to it (its partial list on this shard when p was stored, then every new image whose score
 * beat the bar here), so the bar is never above the depth-th best score of p's list: a bar can only be
 * too low, which sends a candidate the list rejects, never too high, which would miss one. Removals do
 * not lower bars: a removed image leaves a gap that the list's reserve fills, as the list itself does.
 *
 * <p>The low-bar set: the nodes with the lowest bars (outliers, sparse regions) take new images that are
 * not among those images' nearest, so every new image is checked against each of them (one dot product
 * each). Invariant: every node whose bar is at most {@link #lowBarLimit} is in the set (a node whose bar
 * rose since stays until the set is rebuilt: a wasted dot product, never a missed node). The set is
 * rebuilt from all bars, around the {@code lowBarCapacity} lowest, when it has doubled or half of it
 * went stale, so its size stays between the capacity and twice it.
 */
final class NodeBars {

    private final int depth;
    private final int lowBarCapacity;
    private final Map<String, Node> nodes = new HashMap<>();
    /** Nodes with a bar at most {@link #lowBarLimit} (and stale ones), with their vectors. */
    private final List<Node> lowBars = new ArrayList<>();
    /** +infinity until the first rebuild: a shard of few nodes checks every one. */
    private float lowBarLimit = Float.POSITIVE_INFINITY;
    /** Members of {@link #lowBars} whose bar rose above the limit, or that were removed. */
    private int stale;
    /** Size of the set right after the last rebuild (more than the capacity when bars tie at the limit). */
    private int rebuiltSize;

    /** One node's known scores; {@code vector} is held only while the node is in the low-bar set. */
    static final class Node {
        final String imageKey;
        final FloatHeap best;
        float bar;
        float[] vector;
        boolean inLowBars;
        boolean removed;

        private Node(String imageKey, int depth) {
            this.imageKey = imageKey;
            this.best = new FloatHeap(depth);
        }

        /** The known scores as checkpointed state keeps them (4-byte floats, any order). */
        byte[] encode() {
            return encodeScores(Arrays.copyOf(best.getHeap(), best.size()));
        }
    }

    NodeBars(int depth, int lowBarCapacity) {
        if (depth < 1 || lowBarCapacity < 0) {
            throw new IllegalArgumentException("depth must be >= 1 and lowBarCapacity >= 0, got " + depth + ", " + lowBarCapacity);
        }
        this.depth = depth;
        this.lowBarCapacity = lowBarCapacity;
    }

    /** Scores as checkpointed state keeps them: 4-byte floats, any order. */
    static byte[] encodeScores(float[] scores) {
        ByteBuffer out = ByteBuffer.allocate(4 * scores.length);
        for (float score : scores) out.putFloat(score);
        return out.array();
    }

    static float[] decodeScores(byte[] encoded) {
        ByteBuffer in = ByteBuffer.wrap(encoded);
        float[] scores = new float[encoded.length / 4];
        for (int i = 0; i < scores.length; i++) scores[i] = in.getFloat();
        return scores;
    }

    /**
     * Records node {@code imageKey} (stored on this shard) with the scores it is known to have.
     *
     * @param vector the node's vector (kept only if the node goes into the low-bar set)
     * @return the node, for state to keep its scores ({@link Node#encode()})
     */
    Node add(String imageKey, float[] scores, float[] vector) {
        remove(imageKey);
        Node node = new Node(imageKey, depth);
        for (float score : scores) node.best.offer(score);
        node.bar = barOf(node.best);
        nodes.put(imageKey, node);
        if (node.bar <= lowBarLimit) {
            node.vector = vector;
            node.inLowBars = true;
            lowBars.add(node);
        }
        return node;
    }

    void remove(String imageKey) {
        Node node = nodes.remove(imageKey);
        if (node != null) {
            node.removed = true;
            if (node.inLowBars) stale++;
        }
    }

    /** The node of {@code imageKey} if it is on this shard, else null. */
    Node node(String imageKey) {
        return nodes.get(imageKey);
    }

    int size() {
        return nodes.size();
    }

    int lowBarCount() {
        return lowBars.size();
    }

    /**
     * Counts {@code score} among the node's best if it beats the node's bar.
     *
     * @return whether it did (the new image belongs in the node's list as far as this shard knows)
     */
    boolean offer(Node node, float score) {
        if (!(score > node.bar)) {
            return false;
        }
        node.best.offer(score);
        float before = node.bar;
        node.bar = barOf(node.best);
        if (node.inLowBars && before <= lowBarLimit && node.bar > lowBarLimit) {
            stale++;
        }
        return true;
    }

    /**
     * Calls {@code beaten} with each node of the low-bar set, not in {@code checked}, whose bar
     * {@code vector} beats (one dot product per node of the set), and counts the score among its best.
     */
    void forEachLowBarBeaten(float[] vector, Set<String> checked, BeatenConsumer beaten) throws Exception {
        for (int i = 0, n = lowBars.size(); i < n; i++) {
            Node node = lowBars.get(i);
            if (node.removed) {
                continue;
            }
            float score = VectorUtil.dotProduct(vector, node.vector);
            if (score > node.bar && !checked.contains(node.imageKey) && offer(node, score)) {
                beaten.accept(node, score);
            }
        }
    }

    /** Whether the low-bar set has doubled or half of it went stale: time for {@link #rebuildLowBars}. */
    boolean lowBarsDue() {
        int floor = Math.max(Math.max(lowBarCapacity, rebuiltSize), 1);
        return lowBars.size() > 2 * floor || (2 * stale > floor && 2 * stale > lowBars.size());
    }

    /**
     * Rebuilds the low-bar set: the {@code lowBarCapacity} nodes with the lowest bars (more if bars tie
     * at the limit), their vectors from {@code vectorOf}. Costs one pass over every node (amortised over
     * at least half the capacity of raised or added nodes since the last rebuild).
     */
    void rebuildLowBars(Function<String, float[]> vectorOf) {
        for (Node node : lowBars) {
            node.inLowBars = false;
            node.vector = null;
        }
        lowBars.clear();
        stale = 0;
        if (nodes.size() <= lowBarCapacity) {
            lowBarLimit = Float.POSITIVE_INFINITY;
        } else {
            float[] bars = new float[nodes.size()];
            int i = 0;
            for (Node node : nodes.values()) bars[i++] = node.bar;
            Arrays.sort(bars);
            lowBarLimit = lowBarCapacity == 0 ? Float.NEGATIVE_INFINITY : bars[lowBarCapacity - 1];
        }
        for (Node node : nodes.values()) {
            if (node.bar <= lowBarLimit) {
                node.vector = vectorOf.apply(node.imageKey);
                node.inLowBars = true;
                lowBars.add(node);
            }
        }
        rebuiltSize = lowBars.size();
    }

    private float barOf(FloatHeap best) {
        return best.size() < depth ? Float.NEGATIVE_INFINITY : best.peek();
    }

    interface BeatenConsumer {
        void accept(Node node, float score) throws Exception;
    }
}
