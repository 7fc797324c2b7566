package dev.similarity.flink.index;

import dev.similarity.index.tools.NpyFiles;
import org.apache.lucene.util.VectorUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * What the reverse-update search of one shard misses, against the exact answer, as the shard grows and
 * churns: one {@link NodeBars} fed as a shard's owner feeds it (each new image offered to the nodes among
 * its exact 40 nearest, then to those the bar index and the low-bar set find; its node added with its
 * exact partial list; a removed image forgotten by every node and its node removed), on real embeddings
 * (rows of a float32 .npy, sampled at random). For each new image, the nodes whose bar it beats are also
 * found exactly (one dot product per node), so recall is measured per image, with the misses split by
 * whether the missed node's point in the bar index was stale (a bar below the node's). The Lucene shard
 * search, the probe window and the other shards are left out: this measures the bar index alone. Run by
 * hand:
 * <pre>mvn -pl bench test -Dtest=ReverseUpdateRecallBenchmark -Dbench.recall=true [-Dbench.recall.vectors=FILE.npy]
 *   [-Dbench.recall.load=30000] [-Dbench.recall.steps=4] [-Dbench.recall.step-events=4000] [-Dbench.recall.low-bar-nodes=2000]
 *   [-Dbench.recall.max-depth-factor=16]</pre>
 */
@EnabledIfSystemProperty(named = "bench.recall", matches = "true")
class ReverseUpdateRecallBenchmark {

    private static final int K = 10;
    private static final int DEPTH = 20;
    private static final int NEAR = 2 * DEPTH;
    /** neighbours.reverse-search-max-depth (16 by default). */
    private static final int MAX_DEPTH_FACTOR = Integer.getInteger("bench.recall.max-depth-factor", 16);
    /** The bar-index search's first depth (the job: 2 x (k + reserve), at least index.hnsw.beam-width). */
    private static final int FIRST_DEPTH = Integer.getInteger("bench.recall.first-depth", NEAR);

    private NodeBars bars;
    private final List<String> liveKeys = new ArrayList<>();
    private final List<float[]> liveVectors = new ArrayList<>();
    private final List<NodeBars.Node> liveNodes = new ArrayList<>();
    private final Map<String, Integer> slotOf = new HashMap<>();
    private long expected, found, missedStale, missedFresh, offered;
    /** Thread CPU time spent in the NodeBars calls a shard makes (offers, searches, adds, forgets), and graph inserts so far. */
    private long barsNanos, insertsBefore;
    private final java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();

    @Test
    void beatenNodesFoundOverALoadAndAChurn() throws Exception {
        Path file = Path.of(System.getProperty("bench.recall.vectors",
                "../work/embeddings/embeddings-fashion-mnist-similarity@1-catalogue1-1150000.npy"));
        int load = Integer.getInteger("bench.recall.load", 30_000);
        int steps = Integer.getInteger("bench.recall.steps", 4);
        int stepEvents = Integer.getInteger("bench.recall.step-events", 4_000);
        int lowBarNodes = Integer.getInteger("bench.recall.low-bar-nodes", 2_000);
        bars = new NodeBars(DEPTH, K, lowBarNodes, 16, 100);
        SplittableRandom random = new SplittableRandom(42);
        try (NpyFiles.FloatRows rows = NpyFiles.floatRows(file)) {
            Set<Integer> used = new HashSet<>();
            int next = 0;
            for (int i = 0; i < load; i++) add("i" + next++, row(rows, random, used));
            report("load", load);
            for (int step = 1; step <= steps; step++) {
                reset();
                for (int e = 0; e < stepEvents; e++) {
                    double r = random.nextDouble();
                    if (r < 0.5) {
                        add("i" + next++, row(rows, random, used));
                    } else {
                        String gone = liveKeys.get(random.nextInt(liveKeys.size()));
                        remove(gone);
                        if (r < 0.75) add("i" + next++, row(rows, random, used)); // an image change: the new image
                    }
                }
                report("churn step " + step, stepEvents);
            }
        }
    }

    private static float[] row(NpyFiles.FloatRows rows, SplittableRandom random, Set<Integer> used) throws Exception {
        int r;
        do {
            r = random.nextInt(rows.rows());
        } while (!used.add(r));
        float[] v = rows.row(r);
        VectorUtil.l2normalize(v);
        return v;
    }

    private void reset() {
        expected = found = missedStale = missedFresh = offered = barsNanos = 0;
    }

    private void report(String phase, int events) {
        System.out.printf("%-13s %,7d events, %,7d live nodes: beaten %,9d (%.1f per new image), found %.5f, missed %,d"
                        + " (stale point %,d, fresh %,d), offers %,d; bar index %,d points (%.0f %% dead), %,d graph inserts, low-bar set %,d;"
                        + " bars' CPU %.1f s%n",
                phase, events, liveKeys.size(), expected, expected / (double) Math.max(1, events), found / (double) Math.max(1, expected),
                expected - found, missedStale, missedFresh, offered, bars.barIndexPoints(),
                100.0 * (bars.barIndexPoints() - bars.size()) / Math.max(1, bars.barIndexPoints()),
                bars.graphInserts() - insertsBefore, bars.lowBarCount(), barsNanos / 1e9);
        insertsBefore = bars.graphInserts();
        reset();
    }

    /** One new image on the owner shard: its reverse updates, measured against the exact beaten set, then its node. */
    private void add(String key, float[] x) throws Exception {
        int n = liveKeys.size();
        float[] scores = new float[n];
        Set<NodeBars.Node> beaten = new HashSet<>();
        int[] top = new int[NEAR]; // the NEAR best so far, best first
        int kept = 0;
        for (int i = 0; i < n; i++) {
            float score = VectorUtil.dotProduct(x, liveVectors.get(i));
            scores[i] = score;
            NodeBars.Node node = liveNodes.get(i);
            if (score > node.bar) beaten.add(node);
            if (kept < NEAR || score > scores[top[kept - 1]]) {
                int at = Math.min(kept, NEAR - 1);
                while (at > 0 && scores[top[at - 1]] < score) {
                    top[at] = top[at - 1];
                    at--;
                }
                top[at] = i;
                if (kept < NEAR) kept++;
            }
        }
        List<Integer> near = new ArrayList<>(kept);
        for (int i = 0; i < kept; i++) near.add(top[i]);
        Map<NodeBars.Node, Float> stalePointBars = new HashMap<>();
        for (NodeBars.Node node : beaten) stalePointBars.put(node, bars.pointBar(node));

        Set<NodeBars.Node> taken = new HashSet<>();
        long id = NodeBars.imageId(key);
        long t0 = threads.getCurrentThreadCpuTime();
        NodeBars.Visit visit = bars.newVisit();
        for (int i : near) {
            NodeBars.Node node = liveNodes.get(i);
            if (visit.add(node) && bars.offer(node, scores[i], id)) taken.add(node);
        }
        bars.forEachBarBeaten(x, id, visit, FIRST_DEPTH, MAX_DEPTH_FACTOR * DEPTH, (node, score) -> taken.add(node));
        bars.forEachLowBarBeaten(x, id, visit, (node, score) -> taken.add(node));
        if (bars.lowBarsDue()) bars.rebuildLowBars(k -> liveVectors.get(slotOf.get(k)));
        barsNanos += threads.getCurrentThreadCpuTime() - t0;
        expected += beaten.size();
        offered += taken.size();
        for (NodeBars.Node node : beaten) {
            if (taken.contains(node)) {
                found++;
            } else {
                float pointBar = stalePointBars.get(node);
                if (pointBar < node.bar) missedStale++;
                else missedFresh++;
            }
        }

        int partial = Math.min(DEPTH, near.size());
        float[] known = new float[partial];
        long[] ids = new long[partial];
        for (int i = 0; i < partial; i++) {
            known[i] = scores[near.get(i)];
            ids[i] = NodeBars.imageId(liveKeys.get(near.get(i)));
        }
        long t1 = threads.getCurrentThreadCpuTime();
        liveNodes.add(bars.add(key, known, ids, x));
        barsNanos += threads.getCurrentThreadCpuTime() - t1;
        slotOf.put(key, liveKeys.size());
        liveKeys.add(key);
        liveVectors.add(x);
    }

    /** An image leaves: every node forgets its score, then its node goes (swap-remove from the live lists). */
    private void remove(String key) {
        long id = NodeBars.imageId(key);
        List<NodeBars.Node> knowing = new ArrayList<>();
        for (NodeBars.Node node : liveNodes) {
            if (node.knows(id)) knowing.add(node);
        }
        long t0 = threads.getCurrentThreadCpuTime();
        for (NodeBars.Node node : knowing) bars.forget(node.imageKey, id);
        bars.remove(key);
        barsNanos += threads.getCurrentThreadCpuTime() - t0;
        int slot = slotOf.remove(key);
        int last = liveKeys.size() - 1;
        if (slot != last) {
            liveKeys.set(slot, liveKeys.get(last));
            liveVectors.set(slot, liveVectors.get(last));
            liveNodes.set(slot, liveNodes.get(last));
            slotOf.put(liveKeys.get(slot), slot);
        }
        liveKeys.remove(last);
        liveVectors.remove(last);
        liveNodes.remove(last);
    }
}
