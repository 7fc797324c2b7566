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
        bars.forEachLowBarBeaten(EAST, Set.of(), (node, score) -> beaten.add(node.imageKey));
        assertThat(beaten).containsExactly("n0"); // n1 points north: score 0
        // A node stored later with a bar under the limit joins the set without a rebuild.
        bars.add("low", new float[] {-0.5f}, NORTH);
        beaten.clear();
        bars.forEachLowBarBeaten(NORTH, Set.of(), (node, score) -> beaten.add(node.imageKey));
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
}
