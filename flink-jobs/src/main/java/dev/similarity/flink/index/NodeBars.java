package dev.similarity.flink.index;

import org.apache.lucene.codecs.hnsw.DefaultFlatVectorScorer;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.util.FixedBitSet;
import org.apache.lucene.util.VectorUtil;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.NeighborQueue;
import org.apache.lucene.util.hnsw.RandomVectorScorer;

import java.io.IOException;
import java.io.UncheckedIOException;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The bars of one shard's own image nodes, for reverse updates: for each node p, the best {@code depth}
 * (k + reserve) scores p is known to have, whose lowest is the score a new image must beat to enter
 * p's list (-infinity while fewer than k are known).
 *
 * <p>Invariant: a node's known scores are similarities of p to live images that entered p's list or were
 * offered to it (its partial list on this shard when p was stored, then every new image whose score
 * beat the bar here), each with its image's id. The bar is the lowest of them once at least k are known:
 * an image below it is below k live images the list was offered, so it cannot enter the list's top k
 * (with a full set of depth known, the bar is never above the list's depth-th score: a bar can only be
 * too low, which sends a candidate the list rejects, never too high). When an image leaves, its score
 * is forgotten ({@link #forget}), so this holds with live images only; below k known the bar is
 * -infinity. What remains: a list that lost more than its reserve since it was made may lack an image
 * it once pushed out, and images below the bar that entered no list's reserve meanwhile.
 *
 * <p>The low-bar set: the nodes with the lowest bars (outliers, sparse regions) take new images that are
 * not among those images' nearest, so every new image is checked against each of them (one dot product
 * each). Invariant: every node whose bar is at most {@link #lowBarLimit} is in the set (a node whose bar
 * rose since stays until the set is rebuilt: a wasted dot product, never a missed node). The set is
 * rebuilt from all bars, around the {@code lowBarCapacity} lowest, when it has doubled or half of it
 * went stale, so its size stays between the capacity and twice it.
 *
 * <p>The bar index: new image x beats node p's bar b exactly when {@code x . p - b > 0}, which is the
 * inner product of {@code (x, 1)} with {@code (p, -b)}. So each node is also a unit point of an HNSW
 * graph ({@link #point}: {@code (p, -b)} with one more coordinate that gives every point the same norm,
 * the usual reduction of inner-product search to nearest-neighbour search), searched for {@code (x, 1,
 * 0)} ({@link #forEachBarBeaten}): its best results are the nodes x beats by the widest margin, wherever
 * they lie, and a search that still ends on a positive margin is repeated twice as deep. Invariant: a
 * node's point holds a bar at most its current one (a bar that rises leaves the point stale; one that
 * falls is put in again at once), so its margin there is at least its true margin: a stale point can only
 * return a node that no longer takes x (checked against the current bar), never hide one that does. A
 * forgotten score leaves the bar where it was or raises it (the lowest of fewer scores), except when fewer
 * than k remain: only then does it fall, to -infinity. So a forget re-inserts the point only then, and
 * otherwise counts as a change. A node is put in again with its current bar after {@code depth} changes
 * (so stale points stay few), and the graph is rebuilt from the live nodes when more of its points are
 * dead than live (amortised: at most one insert per {@code depth} changes, per fall and per removal).
 * Re-inserting at every forget instead cost 46 % of the shard thread in a 10,000-product churn (JFR; a
 * removed image is forgotten by every node that knew it). A fall is re-inserted rather than written into
 * the point in place: it moves the point far (to bar -infinity), where links made for its old place need
 * not lead.
 */
final class NodeBars {

    private final int depth;
    /** The list length: with fewer than this many scores known, a node takes any image. */
    private final int k;
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

    /**
     * One node's known scores, each with the id of the image it is the similarity to ({@link #imageId};
     * 0: not known, from state written before ids were kept); {@code vector} is held only while the node
     * is in the low-bar set.
     */
    static final class Node {
        final String imageKey;
        final float[] knownScores;
        final long[] knownIds;
        int known;
        float bar;
        float[] vector;
        boolean inLowBars;
        /** Counted in {@link NodeBars#stale}: in the low-bar set with a bar above its limit, or removed. */
        boolean countedStale;
        boolean removed;
        /** The node's point in the bar index (-1: none), and the changes of its bar since it was put there. */
        int ord = -1;
        int changesSinceIndexed;
        /** The last {@link Visit} that reached this node. */
        long visit;
        /** Set while a batch search's last steps run, once the node's state was written with its candidates. */
        boolean barsWritten;

        private Node(String imageKey, int depth) {
            this.imageKey = imageKey;
            this.knownScores = new float[depth];
            this.knownIds = new long[depth];
        }

        /** Counts a score among the best known (the lowest goes when full). */
        void know(float score, long id) {
            if (known < knownScores.length) {
                knownScores[known] = score;
                knownIds[known++] = id;
                return;
            }
            int lowest = lowest();
            if (score > knownScores[lowest]) {
                knownScores[lowest] = score;
                knownIds[lowest] = id;
            }
        }

        boolean knows(long id) {
            for (int i = 0; i < known; i++) {
                if (knownIds[i] == id) return true;
            }
            return false;
        }

        /** Forgets the score of image {@code id}; returns whether it was known. */
        boolean forget(long id) {
            for (int i = 0; i < known; i++) {
                if (knownIds[i] == id) {
                    known--;
                    knownScores[i] = knownScores[known];
                    knownIds[i] = knownIds[known];
                    return true;
                }
            }
            return false;
        }

        int lowest() {
            int lowest = 0;
            for (int i = 1; i < known; i++) if (knownScores[i] < knownScores[lowest]) lowest = i;
            return lowest;
        }

        /** The known scores and their images' ids as checkpointed state keeps them ({@link #decode}). */
        byte[] encode() {
            return NodeBars.encode(Arrays.copyOf(knownScores, known), Arrays.copyOf(knownIds, known));
        }
    }

    /** A 64-bit id of an image key (a known score's image; 0 is kept for "not known"). */
    static long imageId(String imageKey) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < imageKey.length(); i++) {
            h ^= imageKey.charAt(i);
            h *= 0x100000001b3L;
        }
        return h == 0 ? 1 : h;
    }

    /** Bar index points by ord: {@code (p, -bar)} with the bar the node had when put in. */
    private final List<float[]> points = new ArrayList<>();
    /** The node's own vector by ord (the exact score of a candidate is computed from it). */
    private final List<float[]> pointVectors = new ArrayList<>();
    private final List<Node> pointNodes = new ArrayList<>();
    private FixedBitSet livePoints = new FixedBitSet(64);
    private int deadPoints;
    private HnswGraphBuilder barGraph;
    private FloatVectorValues pointValues;
    /** Searches the bar index with its scratch state (visited set, candidate queue) kept between searches. */
    private HnswGraphSearcher barSearcher;
    /** Visits started so far ({@link #newVisit}). */
    private long visits;
    private final int maxConn;
    private final int beamWidth;
    /** Points put into the bar index's graph so far, rebuilds included (for tests and benchmarks). */
    private long graphInserts;

    NodeBars(int depth, int lowBarCapacity) {
        this(depth, depth, lowBarCapacity, 16, 100);
    }

    NodeBars(int depth, int lowBarCapacity, int maxConn, int beamWidth) {
        this(depth, depth, lowBarCapacity, maxConn, beamWidth);
    }

    /**
     * @param maxConn   the bar index's HNSW maximum connections per node
     * @param beamWidth the bar index's HNSW construction beam width
     */
    NodeBars(int depth, int k, int lowBarCapacity, int maxConn, int beamWidth) {
        if (depth < 1 || k < 1 || k > depth || lowBarCapacity < 0) {
            throw new IllegalArgumentException("depth must be >= 1 and lowBarCapacity >= 0, got " + depth + ", " + lowBarCapacity);
        }
        this.depth = depth;
        this.k = k;
        this.lowBarCapacity = lowBarCapacity;
        this.maxConn = maxConn;
        this.beamWidth = beamWidth;
    }

    /** A bar as the bar index holds it: -infinity (fewer than depth known) as a bar every unit vector's score beats. */
    private static float indexedBar(float bar) {
        return Math.max(bar, LOWEST_BAR);
    }

    private static final float LOWEST_BAR = -1.001f;
    /** Squared norm every point is brought to before it is normalised: at least 1 + bar^2 for every indexed bar. */
    private static final double POINT_NORM_SQUARED = 1 + (double) LOWEST_BAR * LOWEST_BAR + 1e-3;

    /**
     * Node p with bar b as a unit point {@code (p, -b, sqrt(N - 1 - b^2)) / sqrt(N)}: every point has the
     * same norm, so the nodes with the widest margins {@code x . p - b} are the nearest points to {@code (x,
     * 1, 0) / sqrt(2)} by cosine (the usual reduction of inner-product search to nearest-neighbour search,
     * which HNSW graphs do well; an HNSW graph built on raw inner products links points by their bars).
     */
    private static float[] point(float[] vector, float bar) {
        float[] point = Arrays.copyOf(vector, vector.length + 2);
        double b = indexedBar(bar);
        double scale = Math.sqrt(POINT_NORM_SQUARED);
        for (int i = 0; i < vector.length; i++) point[i] = (float) (vector[i] / scale);
        point[vector.length] = (float) (-b / scale);
        point[vector.length + 1] = (float) (Math.sqrt(POINT_NORM_SQUARED - 1 - b * b) / scale);
        return point;
    }

    private static float[] query(float[] vector) {
        float[] query = Arrays.copyOf(vector, vector.length + 2);
        float scale = (float) Math.sqrt(2);
        for (int i = 0; i < vector.length; i++) query[i] = vector[i] / scale;
        query[vector.length] = 1 / scale;
        return query;
    }

    private void putPoint(Node node, float[] vector) {
        if (barGraph == null) {
            pointValues = FloatVectorValues.fromFloats(points, vector.length + 2);
            try {
                barGraph = HnswGraphBuilder.create(DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorerSupplier(
                        VectorSimilarityFunction.DOT_PRODUCT, pointValues), maxConn, beamWidth, 42);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        float[] point = point(vector, node.bar);
        int ord = points.size();
        points.add(point);
        pointVectors.add(vector);
        pointNodes.add(node);
        livePoints = FixedBitSet.ensureCapacity(livePoints, ord + 1);
        livePoints.set(ord);
        node.ord = ord;
        node.changesSinceIndexed = 0;
        graphInserts++;
        try {
            barGraph.addGraphNode(ord);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void dropPoint(Node node) {
        if (node.ord >= 0) {
            livePoints.clear(node.ord);
            deadPoints++;
            node.ord = -1;
        }
    }

    /** Puts a node back with its current bar; rebuilds the graph when more of its points are dead than live. */
    private void refreshPoint(Node node) {
        float[] vector = pointVectors.get(node.ord);
        dropPoint(node);
        if (deadPoints > Math.max(points.size() - deadPoints, 1024)) {
            rebuildBarIndex();
        }
        if (!node.removed && node.ord < 0) putPoint(node, vector);
    }

    private void rebuildBarIndex() {
        List<Node> liveNodes = new ArrayList<>();
        List<float[]> vectors = new ArrayList<>();
        for (int ord = 0; ord < points.size(); ord++) {
            if (livePoints.get(ord)) {
                liveNodes.add(pointNodes.get(ord));
                vectors.add(pointVectors.get(ord));
            }
        }
        points.clear();
        pointVectors.clear();
        pointNodes.clear();
        livePoints = new FixedBitSet(Math.max(64, liveNodes.size()));
        deadPoints = 0;
        barGraph = null;
        for (int i = 0; i < liveNodes.size(); i++) {
            liveNodes.get(i).ord = -1;
            putPoint(liveNodes.get(i), vectors.get(i));
        }
    }

    /** The bar node's point holds in the bar index (NaN: no point); at most the node's bar (for tests). */
    float pointBar(Node node) {
        if (node.ord < 0) return Float.NaN;
        float[] point = points.get(node.ord);
        return (float) (-point[point.length - 2] * Math.sqrt(POINT_NORM_SQUARED));
    }

    /** Points put into the bar index's graph so far, rebuilds included (for tests and benchmarks). */
    long graphInserts() {
        return graphInserts;
    }

    /** Points in the bar index, live and dead (for tests and metrics). */
    int barIndexPoints() {
        return points.size();
    }

    /**
     * One new image's pass over this shard's nodes: the nodes it was offered to (or that are its own),
     * each offered it at most once. Marks the nodes themselves (no set of keys to hash), so a pass costs
     * nothing per node beyond the mark; a new visit forgets every earlier one.
     */
    final class Visit {
        private final long id;

        private Visit(long id) {
            this.id = id;
        }

        /** Marks the node as reached by this visit; returns false when it already was. */
        boolean add(Node node) {
            if (node.visit == id) return false;
            node.visit = id;
            return true;
        }

        boolean contains(Node node) {
            return node.visit == id;
        }
    }

    /** Starts a new image's pass over the nodes (no node reached yet). */
    Visit newVisit() {
        return new Visit(++visits);
    }

    /**
     * Calls {@code beaten} with each node, not yet reached by {@code visit}, whose bar {@code vector}
     * beats, as the bar index finds them: a maximum-inner-product search for {@code (vector, 1)},
     * {@code firstDepth} deep, repeated twice as deep while its last result still has a positive margin,
     * up to {@code maxDepth}. Counts each score among the node's best (under {@code imageId}, {@link
     * #imageId}; 0: not known) and adds the node to {@code visit}.
     *
     * @return the searches made (0 when no node is indexed)
     */
    int forEachBarBeaten(float[] vector, long imageId, Visit visit, int firstDepth, int maxDepth, BeatenConsumer beaten)
            throws Exception {
        if (barGraph == null || points.size() == deadPoints) {
            return 0;
        }
        float[] query = query(vector);
        int searches = 0;
        // HNSW finds a search's last results least surely: search at least as wide as the graph was built.
        int searchDepth = Math.max(firstDepth, beamWidth);
        while (true) {
            RandomVectorScorer scorer = DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorer(
                    VectorSimilarityFunction.DOT_PRODUCT, pointValues, query);
            if (barSearcher == null) {
                barSearcher = new HnswGraphSearcher(new NeighborQueue(searchDepth, true), new FixedBitSet(points.size()));
            }
            TopKnnCollector collector = new TopKnnCollector(searchDepth, Integer.MAX_VALUE);
            barSearcher.search(collector, scorer, barGraph.getGraph(), livePoints);
            ScoreDoc[] found = collector.topDocs().scoreDocs;
            searches++;
            boolean lastPositive = false;
            List<Node> taking = new ArrayList<>();
            List<Float> scores = new ArrayList<>();
            for (ScoreDoc doc : found) {
                float[] point = points.get(doc.doc);
                lastPositive = VectorUtil.dotProduct(query, point) > 0;
                Node node = pointNodes.get(doc.doc);
                if (node.removed || !visit.add(node)) continue;
                float score = VectorUtil.dotProduct(vector, pointVectors.get(doc.doc));
                if (score > node.bar) {
                    taking.add(node);
                    scores.add(score);
                }
            }
            // Offered after the scan: an offer may put a node back into the graph.
            for (int i = 0; i < taking.size(); i++) {
                if (offer(taking.get(i), scores.get(i), imageId)) beaten.accept(taking.get(i), scores.get(i));
            }
            if (!lastPositive || found.length < searchDepth || searchDepth >= Math.max(maxDepth, beamWidth)) {
                return searches;
            }
            searchDepth = Math.min(2 * searchDepth, maxDepth);
        }
    }

    /** Marks the encoding with ids: NaN bits, which no score of the encoding without ids has. */
    private static final int WITH_IDS = -1;

    /** Known scores with their images' ids as checkpointed state keeps them: the marker, then (float, long) pairs. */
    static byte[] encode(float[] scores, long[] ids) {
        ByteBuffer out = ByteBuffer.allocate(4 + 12 * scores.length);
        out.putInt(WITH_IDS);
        for (int i = 0; i < scores.length; i++) out.putFloat(scores[i]).putLong(ids[i]);
        return out.array();
    }

    /** Scores without ids (what state written before ids were kept holds): 4-byte floats, any order. */
    static byte[] encodeScores(float[] scores) {
        ByteBuffer out = ByteBuffer.allocate(4 * scores.length);
        for (float score : scores) out.putFloat(score);
        return out.array();
    }

    /** The scores of either encoding. */
    static float[] decodeScores(byte[] encoded) {
        ByteBuffer in = ByteBuffer.wrap(encoded);
        if (encoded.length >= 4 && in.getInt(0) == WITH_IDS) {
            float[] scores = new float[(encoded.length - 4) / 12];
            for (int i = 0; i < scores.length; i++) scores[i] = in.getFloat(4 + 12 * i);
            return scores;
        }
        float[] scores = new float[encoded.length / 4];
        for (int i = 0; i < scores.length; i++) scores[i] = in.getFloat();
        return scores;
    }

    /** The ids of either encoding (0 for each score of the encoding without ids). */
    static long[] decodeIds(byte[] encoded) {
        ByteBuffer in = ByteBuffer.wrap(encoded);
        if (encoded.length >= 4 && in.getInt(0) == WITH_IDS) {
            long[] ids = new long[(encoded.length - 4) / 12];
            for (int i = 0; i < ids.length; i++) ids[i] = in.getLong(8 + 12 * i);
            return ids;
        }
        return new long[encoded.length / 4];
    }

    /**
     * Records node {@code imageKey} (stored on this shard) with the scores it is known to have.
     *
     * @param vector the node's vector (put in the bar index; null: the node is found by the searches
     *     near new images and the low-bar set only)
     * @return the node, for state to keep its scores ({@link Node#encode()})
     */
    Node add(String imageKey, float[] scores, float[] vector) {
        return add(imageKey, scores, new long[scores.length], vector);
    }

    /** As above, each score with the id of its image ({@link #imageId}; 0: not known). */
    Node add(String imageKey, float[] scores, long[] ids, float[] vector) {
        remove(imageKey);
        Node node = new Node(imageKey, depth);
        for (int i = 0; i < scores.length; i++) node.know(scores[i], ids[i]);
        node.bar = barOf(node);
        nodes.put(imageKey, node);
        if (vector != null) {
            putPoint(node, vector);
        }
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
            markStale(node);
            dropPoint(node);
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
        return offer(node, score, 0);
    }

    /**
     * As above, the score being image {@code imageId}'s ({@link #imageId}), so that it can be forgotten.
     * An image whose score the node already knows is not counted again (a batch offers the images of its
     * own partial lists too): each known score stays one live image's.
     */
    boolean offer(Node node, float score, long imageId) {
        if (!(score > node.bar) || (imageId != 0 && node.knows(imageId))) {
            return false;
        }
        node.know(score, imageId);
        node.bar = barOf(node);
        if (node.bar > lowBarLimit) markStale(node);
        if (node.ord >= 0 && ++node.changesSinceIndexed >= depth) {
            refreshPoint(node);
        }
        return true;
    }

    /**
     * Calls {@code beaten} with each node of the low-bar set, not reached by {@code visit}, whose bar
     * {@code vector} beats (one dot product per node of the set), and counts the score among its best
     * (under {@code imageId}, {@link #imageId}; 0: not known).
     */
    void forEachLowBarBeaten(float[] vector, long imageId, Visit visit, BeatenConsumer beaten) throws Exception {
        for (int i = 0, n = lowBars.size(); i < n; i++) {
            Node node = lowBars.get(i);
            if (node.removed) {
                continue;
            }
            float score = VectorUtil.dotProduct(vector, node.vector);
            if (score > node.bar && !visit.contains(node) && offer(node, score, imageId)) {
                beaten.accept(node, score);
            }
        }
    }

    /** Counts a member of the low-bar set as stale, once. */
    private void markStale(Node node) {
        if (node.inLowBars && !node.countedStale) {
            node.countedStale = true;
            stale++;
        }
    }

    /** Members of the low-bar set counted stale (for tests). */
    int staleLowBars() {
        return stale;
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
            node.countedStale = false;
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

    /**
     * The lowest known score once k are known (an image below it is below k live images of the list, so
     * not in its top k), else -infinity. A node that forgot scores (their images left) keeps a bar while
     * at least k remain: only one that lost more than its reserve takes every image until it is full
     * again, so removals do not flood reverse updates with nodes that take anything.
     */
    private float barOf(Node node) {
        return node.known < k ? Float.NEGATIVE_INFINITY : node.knownScores[node.lowest()];
    }

    /**
     * Image {@code imageId} left: forgets its score among node {@code imageKey}'s best known, so the bar
     * is the lowest score of live images again (-infinity once fewer than k are known, until new images
     * fill it), and images between the list's new tail and the old bar reach the list again. A lowered bar is put into the bar index
     * at once, relinked (invariant: a point never holds a bar above its node's), and into the low-bar set if it is
     * at most the set's limit.
     *
     * @return the node when its bar changed (for state to keep its scores), else null
     */
    Node forget(String imageKey, long imageId) {
        Node node = nodes.get(imageKey);
        if (node == null || !node.forget(imageId)) {
            return null;
        }
        float before = node.bar;
        node.bar = barOf(node);
        if (node.ord >= 0) {
            // Fell (fewer than k known): put in again, relinked. Stayed or rose: the point's bar is at most
            // the current one, so it only counts as a change.
            if (node.bar < before || ++node.changesSinceIndexed >= depth) refreshPoint(node);
        }
        if (node.bar > lowBarLimit) {
            markStale(node); // lifted out of the set's range, as in offer
        } else if (node.countedStale) {
            node.countedStale = false; // fell back into it: a member that counts again
            stale--;
        }
        if (!node.inLowBars && node.bar <= lowBarLimit && node.ord >= 0) {
            node.vector = pointVectors.get(node.ord);
            node.inLowBars = true;
            lowBars.add(node);
        }
        return node;
    }

    interface BeatenConsumer {
        void accept(Node node, float score) throws Exception;
    }
}
