package dev.similarity.flink.index;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class NodeBarsTest {

    private static final float[] EAST = {1, 0};
    private static final float[] NORTH = {0, 1};

    @Test
    void aBarIsTheLowestOfTheBestScoresAndRisesWithEveryScoreThatBeatsIt() {
        NodeBars bars = new NodeBars(3, 10);
        NodeBars.Node node = bars.add("a", new float[] {0.9f, 0.5f, 0.7f}, EAST);
        assertThat(node.bar).isEqualTo(0.5f);
        assertThat(bars.offer(node, 0.4f)).isFalse();
        assertThat(bars.offer(node, 0.8f)).isTrue();
        assertThat(node.bar).isEqualTo(0.7f);
        assertThat(NodeBars.decodeScores(node.encode())).containsExactlyInAnyOrder(0.9f, 0.8f, 0.7f);
    }

    /** A batch offers a node the images of its own partial list again: each must count once, or the bar rises too high. */
    @Test
    void anImageWhoseScoreTheNodeKnowsIsNotCountedAgain() {
        NodeBars bars = new NodeBars(3, 10);
        NodeBars.Node node = bars.add("a", new float[] {0.9f, 0.5f, 0.7f}, new long[] {11, 12, 13}, EAST);
        assertThat(bars.offer(node, 0.9f, 11)).as("image 11 is known").isFalse();
        assertThat(node.bar).isEqualTo(0.5f);
        assertThat(bars.offer(node, 0.6f, 14)).as("a new image above the bar").isTrue();
        assertThat(node.bar).isEqualTo(0.6f);
        assertThat(NodeBars.decodeIds(node.encode())).containsExactlyInAnyOrder(11L, 13L, 14L);
    }

    /**
     * A bar falls only to -infinity (a forgotten score leaves fewer than k known); new images then raise it
     * again, possibly below where it was. The node's point in the bar index must never hold a bar above the
     * current one, or the index ranks the node below nodes that do not take an image it takes. Forgets
     * that leave the bar or raise it leave the point as it was (a lower bar there is allowed).
     */
    @Test
    void aPointNeverHoldsABarAboveItsNodesWhenScoresAreForgotten() {
        NodeBars bars = new NodeBars(4, 2, 0, 16, 100);
        NodeBars.Node node = bars.add("p", new float[] {0.9f, 0.8f, 0.85f}, new long[] {21, 22, 23}, EAST);
        assertThat(bars.pointBar(node)).isCloseTo(0.8f, org.assertj.core.data.Offset.offset(1e-5f));

        assertThat(bars.forget("p", 22)).isSameAs(node);
        assertThat(node.bar).as("the lowest of 0.9 and 0.85").isEqualTo(0.85f);
        assertThat(bars.pointBar(node)).as("a raise leaves the point").isCloseTo(0.8f, org.assertj.core.data.Offset.offset(1e-5f));

        bars.forget("p", 23);
        assertThat(node.bar).as("one known score, k = 2").isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(bars.pointBar(node)).as("a fall is put in at once").isLessThanOrEqualTo(-1f);

        assertThat(bars.offer(node, 0.5f, 24)).isTrue();
        assertThat(node.bar).isEqualTo(0.5f);
        assertThat(bars.pointBar(node)).as("below the old bar, 0.8").isLessThanOrEqualTo(node.bar);
    }

    @Test
    void aNodeWithFewerThanDepthScoresTakesAnything() {
        NodeBars bars = new NodeBars(3, 10);
        NodeBars.Node node = bars.add("a", new float[] {0.9f}, EAST);
        assertThat(bars.offer(node, -0.99f)).isTrue();
    }

    @Test
    void everyNodeAtOrBelowTheLowBarLimitIsCheckedAndOnlyThoseItsVectorBeats() throws Exception {
        NodeBars bars = new NodeBars(1, 2);
        Map<String, float[]> vectors = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            vectors.put("n" + i, i % 2 == 0 ? EAST : NORTH);
            bars.add("n" + i, new float[] {0.1f * i}, vectors.get("n" + i));
        }
        bars.rebuildLowBars(vectors::get);
        assertThat(bars.lowBarCount()).isEqualTo(2); // n0 (bar 0) and n1 (bar 0.1)
        List<String> beaten = new ArrayList<>();
        bars.forEachLowBarBeaten(EAST, 0, bars.newVisit(), (node, score) -> beaten.add(node.imageKey));
        assertThat(beaten).containsExactly("n0"); // n1 points north: score 0
        // A node stored later with a bar under the limit joins the set without a rebuild.
        bars.add("low", new float[] {-0.5f}, NORTH);
        beaten.clear();
        bars.forEachLowBarBeaten(NORTH, 0, bars.newVisit(), (node, score) -> beaten.add(node.imageKey));
        assertThat(beaten).containsExactlyInAnyOrder("n1", "low");
    }

    @Test
    void theLowBarSetIsDueForARebuildWhenItDoublesOrHalfOfItWentStale() {
        NodeBars bars = new NodeBars(1, 2);
        Map<String, float[]> vectors = new HashMap<>();
        for (int i = 0; i < 6; i++) {
            vectors.put("n" + i, EAST);
            bars.add("n" + i, new float[] {0.1f * i}, EAST);
        }
        assertThat(bars.lowBarsDue()).isTrue(); // all 6 are in the set until the first rebuild
        bars.rebuildLowBars(vectors::get);
        assertThat(bars.lowBarsDue()).isFalse();
        bars.offer(bars.node("n0"), 0.9f);
        bars.offer(bars.node("n1"), 0.9f);
        assertThat(bars.lowBarsDue()).isTrue();
        bars.rebuildLowBars(vectors::get);
        assertThat(bars.lowBarCount()).isEqualTo(2); // n2, n3
    }

    @Test
    void theBarIndexFindsEveryNodeANewImageBeatsWhereverItLiesAndNoOther() throws Exception {
        // 3,000 nodes in 8 dimensions with bars from tight to loose; no low-bar set, no search near the image.
        java.util.Random random = new java.util.Random(7);
        NodeBars bars = new NodeBars(2, 0, 16, 100);
        Map<String, float[]> vectors = new HashMap<>();
        for (int i = 0; i < 3_000; i++) {
            float[] v = unit(random, 8);
            vectors.put("n" + i, v);
            float bar = 0.99f - 0.6f * random.nextFloat() * random.nextFloat();
            bars.add("n" + i, new float[] {bar, bar + 0.001f}, v);
        }
        int expectedTotal = 0, foundTotal = 0;
        for (int q = 0; q < 200; q++) {
            float[] x = unit(random, 8);
            Set<String> expected = new java.util.HashSet<>();
            for (Map.Entry<String, float[]> e : vectors.entrySet()) {
                if (org.apache.lucene.util.VectorUtil.dotProduct(x, e.getValue()) > bars.node(e.getKey()).bar) expected.add(e.getKey());
            }
            Set<String> found = new java.util.HashSet<>();
            bars.forEachBarBeaten(x, 0, bars.newVisit(), 20, 20 * 64, (node, score) -> found.add(node.imageKey));
            assertThat(expected).containsAll(found); // never a node whose bar x does not beat
            expectedTotal += expected.size();
            foundTotal += found.size();
        }
        // Bars rose with every image taken (points go stale, are put back, the graph is rebuilt): still all found.
        assertThat(foundTotal).isEqualTo(expectedTotal);
        assertThat(expectedTotal).isGreaterThan(500);
    }

    @Test
    void aRemovedNodeIsNoLongerFoundByTheBarIndex() throws Exception {
        NodeBars bars = new NodeBars(1, 0, 16, 100);
        bars.add("a", new float[] {0.5f}, EAST);
        bars.add("b", new float[] {0.5f}, EAST);
        bars.remove("a");
        List<String> beaten = new ArrayList<>();
        bars.forEachBarBeaten(EAST, 0, bars.newVisit(), 4, 8, (node, score) -> beaten.add(node.imageKey));
        assertThat(beaten).containsExactly("b");
    }

    private static float[] unit(java.util.Random random, int dimension) {
        float[] v = new float[dimension];
        for (int i = 0; i < dimension; i++) v[i] = (float) random.nextGaussian();
        org.apache.lucene.util.VectorUtil.l2normalize(v);
        return v;
    }

    @Test
    void aRemovedImagesScoreLeavesTheBarsThatKnewItSoTheBarFallsBack() throws Exception {
        NodeBars bars = new NodeBars(2, 2, 0, 16, 100); // k = depth: forgetting one takes it below k
        NodeBars.Node node = bars.add("p", new float[] {0.9f, 0.8f}, new long[] {NodeBars.imageId("a"), NodeBars.imageId("b")}, EAST);
        bars.add("q", new float[] {0.99f, 0.99f}, new long[] {1, 2}, NORTH);
        assertThat(node.bar).isEqualTo(0.8f);
        assertThat(bars.offer(node, 0.85f, NodeBars.imageId("c"))).isTrue(); // b's 0.8 goes
        assertThat(node.bar).isEqualTo(0.85f);
        assertThat(bars.forget("p", NodeBars.imageId("zzz"))).isNull(); // never known
        assertThat(bars.forget("p", NodeBars.imageId("a"))).isSameAs(node);
        assertThat(node.bar).isEqualTo(Float.NEGATIVE_INFINITY); // fewer than k known: takes anything
        // The bar index holds the lowered bar at once: an image far from p (score 0.6) is found for it.
        float[] nearEast = {0.6f, 0.8f};
        List<String> beaten = new ArrayList<>();
        bars.forEachBarBeaten(nearEast, NodeBars.imageId("d"), bars.newVisit(), 4, 8, (n, score) -> beaten.add(n.imageKey));
        assertThat(beaten).containsExactly("p");
        assertThat(node.bar).isEqualTo(0.6f);
    }

    @Test
    void knownScoresKeepTheirImagesThroughStateAndOlderStateReadsWithoutThem() {
        NodeBars bars = new NodeBars(3, 0);
        NodeBars.Node node = bars.add("p", new float[] {0.9f, 0.7f}, new long[] {11, 12}, null);
        byte[] encoded = node.encode();
        assertThat(NodeBars.decodeScores(encoded)).containsExactly(0.9f, 0.7f);
        assertThat(NodeBars.decodeIds(encoded)).containsExactly(11L, 12L);
        byte[] older = NodeBars.encodeScores(new float[] {0.5f, 0.4f});
        assertThat(NodeBars.decodeScores(older)).containsExactly(0.5f, 0.4f);
        assertThat(NodeBars.decodeIds(older)).containsExactly(0L, 0L);
    }

    /** Nodes n0..n5 (depth 3, k 2) known at {0.1 i, 0.9, 0.95} under ids 10i+1..10i+3; the low-bar set holds n0 and n1. */
    private static NodeBars sixNodesLowestTwoInTheLowBarSet() {
        NodeBars bars = new NodeBars(3, 2, 2, 16, 100);
        Map<String, float[]> vectors = new HashMap<>();
        for (int i = 0; i < 6; i++) {
            vectors.put("n" + i, EAST);
            bars.add("n" + i, new float[] {0.1f * i, 0.9f, 0.95f}, new long[] {10L * i + 1, 10L * i + 2, 10L * i + 3}, EAST);
        }
        bars.rebuildLowBars(vectors::get);
        return bars;
    }

    @Test
    void aForgottenScoreThatLiftsABarOutOfTheLowBarSetCountsAsStale() {
        NodeBars bars = sixNodesLowestTwoInTheLowBarSet();
        assertThat(bars.lowBarCount()).isEqualTo(2); // n0, n1
        bars.forget("n0", 1);
        bars.forget("n1", 11);
        assertThat(bars.node("n0").bar).isEqualTo(0.9f); // lifted: 2 (k) scores left
        assertThat(bars.lowBarsDue()).as("both members lifted above the limit: the set went stale").isTrue();
    }

    @Test
    void aLowBarMemberIsCountedStaleOnceHoweverOftenItsBarCrossesTheLimit() {
        NodeBars bars = sixNodesLowestTwoInTheLowBarSet(); // n0, n1 at bars 0.0 and 0.1
        bars.forget("n0", 1); // lifted to 0.9
        assertThat(bars.staleLowBars()).isEqualTo(1);
        bars.forget("n0", 2); // one score left: the bar falls to -infinity, back in range
        assertThat(bars.staleLowBars()).as("a member back in range counts again").isZero();
        bars.offer(bars.node("n0"), 0.5f, 99); // two scores: lifted to 0.5
        bars.offer(bars.node("n0"), 0.6f, 98); // still above the limit
        assertThat(bars.staleLowBars()).isEqualTo(1);
        bars.remove("n0");
        assertThat(bars.staleLowBars()).as("removed after a lift: still one").isEqualTo(1);
        bars.remove("n1");
        assertThat(bars.staleLowBars()).isEqualTo(2);
    }

    @Test
    void aNodeThatForgotScoresKeepsTheLowestLiveOneAsItsBarWhileItKnowsAtLeastK() {
        NodeBars bars = new NodeBars(4, 2, 0, 16, 100);
        NodeBars.Node node = bars.add("p", new float[] {0.9f, 0.8f, 0.7f, 0.6f}, new long[] {1, 2, 3, 4}, EAST);
        assertThat(node.bar).isEqualTo(0.6f);
        bars.forget("p", 1);
        assertThat(node.bar).isEqualTo(0.6f); // 3 live known: below 0.6 is below 2 (k) of them
        bars.forget("p", 4);
        assertThat(node.bar).isEqualTo(0.7f);
        bars.forget("p", 3);
        assertThat(node.bar).isEqualTo(Float.NEGATIVE_INFINITY); // 1 left: fewer than k
    }
}
