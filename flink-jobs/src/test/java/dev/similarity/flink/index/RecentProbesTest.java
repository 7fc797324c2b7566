package dev.similarity.flink.index;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecentProbesTest {

    private static final float[] EAST = {1f, 0f};
    private static final float[] NORTH = {0f, 1f};
    private static final float[] NORTH_EAST = {(float) Math.sqrt(0.5), (float) Math.sqrt(0.5)};

    @Test
    void reportsOnlyProbesWhoseBarTheVectorBeats() {
        RecentProbes probes = new RecentProbes(8, 1);
        probes.add("east", 3, EAST, new float[] {0.5f});
        probes.add("north", 4, NORTH, new float[] {0.9f});

        List<String> beaten = new ArrayList<>();
        probes.forEachBeaten("x", NORTH_EAST, (id, version, score) -> beaten.add(id + "@" + version));

        assertThat(beaten).containsExactly("east@3");
    }

    /** The scan skips probes by their int8 codes: it must report exactly the probes exact scores beat. */
    @Test
    void reportsTheSameProbesAsAnExactScanOfManyVectors() {
        java.util.Random random = new java.util.Random(3);
        int dimension = 128;
        RecentProbes probes = new RecentProbes(2_000, 4);
        float[][] vectors = new float[2_000][];
        float[] bars = new float[2_000];
        for (int p = 0; p < vectors.length; p++) {
            vectors[p] = near(random, null, dimension);
            // Bars spread over the scores new vectors have, so that many probes lie close to them.
            bars[p] = (float) (random.nextDouble() * 0.6 - 0.1);
            probes.add("p" + p, p, vectors[p], new float[] {0.99f, 0.98f, 0.97f, bars[p]});
        }
        int reported = 0;
        for (int n = 0; n < 200; n++) {
            float[] x = near(random, vectors[random.nextInt(vectors.length)], dimension);
            List<String> expected = new ArrayList<>();
            for (int p = 0; p < vectors.length; p++) {
                if (org.apache.lucene.util.VectorUtil.dotProduct(x, vectors[p]) > bars[p]) expected.add("p" + p);
            }
            List<String> beaten = new ArrayList<>();
            probes.forEachBeaten("x" + n, x, (id, version, score) -> beaten.add(id));
            assertThat(beaten).as("vector %d", n).containsExactlyElementsOf(expected);
            reported += beaten.size();
            // A beaten probe's bar rises to the lowest of its best scores: keep the expectation in step.
            for (String id : beaten) {
                int p = Integer.parseInt(id.substring(1));
                bars[p] = Math.min(0.97f, Math.max(bars[p], org.apache.lucene.util.VectorUtil.dotProduct(x, vectors[p])));
            }
        }
        assertThat(reported).as("probes beaten over the scan").isGreaterThan(1_000);
    }

    /**
     * neighbours.probe-window raised between a checkpoint and the restore: the restored probes keep their
     * sequence numbers, so they sit in slots that need not start at 0, and every one is still scanned.
     */
    @Test
    void probesRestoredIntoALargerWindowAreAllScanned() {
        RecentProbes small = new RecentProbes(4, 1);
        List<RecentProbes.Probe> persisted = new ArrayList<>();
        for (int p = 0; p < 6; p++) persisted.add(small.add("p" + p, p, EAST, new float[] {0.5f}));
        RecentProbes larger = new RecentProbes(8, 1);
        List<RecentProbes.Probe> kept = larger.restore(persisted.subList(2, 6)); // the last 4, as state held them
        assertThat(kept).hasSize(4);

        List<String> beaten = new ArrayList<>();
        larger.forEachBeaten("x", EAST, (id, version, score) -> beaten.add(id));
        assertThat(beaten).containsExactlyInAnyOrder("p2", "p3", "p4", "p5");
    }

    /** A unit vector: random, or at a small random distance from {@code centre}. */
    private static float[] near(java.util.Random random, float[] centre, int dimension) {
        float[] v = new float[dimension];
        for (int i = 0; i < dimension; i++) v[i] = (float) random.nextGaussian() * (centre == null ? 1f : 0.05f) + (centre == null ? 0 : centre[i]);
        org.apache.lucene.util.VectorUtil.l2normalize(v);
        return v;
    }

    @Test
    void aProbeKeepsTheVectorItWasAddedWithWhenTheCallersArrayChangesLater() {
        RecentProbes probes = new RecentProbes(8, 1);
        float[] vector = EAST.clone();
        probes.add("east", 1, vector, new float[] {0.5f});
        System.arraycopy(NORTH, 0, vector, 0, 2);

        List<String> beaten = new ArrayList<>();
        probes.forEachBeaten("x", EAST, (id, version, score) -> beaten.add(id + "=" + score));

        assertThat(beaten).containsExactly("east=1.0");
    }

    @Test
    void aVectorOfAnotherDimensionIsRefused() {
        RecentProbes probes = new RecentProbes(8, 1);
        probes.add("east", 1, EAST, new float[0]);

        assertThatThrownBy(() -> probes.add("3d", 1, new float[] {1f, 0f, 0f}, new float[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 dimensions, got 3");
    }

    @Test
    void aProductNeverBeatsItsOwnProbe() {
        RecentProbes probes = new RecentProbes(8, 1);
        probes.add("east", 1, EAST, new float[0]);

        List<String> beaten = new ArrayList<>();
        probes.forEachBeaten("east", EAST, (id, version, score) -> beaten.add(id));

        assertThat(beaten).isEmpty();
    }

    @Test
    void aBeatenProbeRaisesItsBarToItsNewLowestBestScore() {
        RecentProbes probes = new RecentProbes(8, 2);
        probes.add("east", 1, EAST, new float[] {0.9f, 0.1f});

        List<Float> beaten = new ArrayList<>();
        probes.forEachBeaten("x", NORTH_EAST, (id, version, score) -> beaten.add(score)); // 0.707 beats 0.1
        probes.forEachBeaten("y", NORTH, (id, version, score) -> beaten.add(score)); // 0 does not beat 0.707
        probes.forEachBeaten("z", EAST, (id, version, score) -> beaten.add(score)); // 1 beats 0.707

        assertThat(beaten).containsExactly((float) Math.sqrt(0.5), 1f);
    }

    @Test
    void aProbeWithAShortPartialListTakesEveryProductUntilItIsFull() {
        RecentProbes probes = new RecentProbes(8, 2);
        probes.add("east", 1, EAST, new float[0]);

        List<Float> beaten = new ArrayList<>();
        probes.forEachBeaten("x", NORTH, (id, version, score) -> beaten.add(score));
        probes.forEachBeaten("y", NORTH, (id, version, score) -> beaten.add(score));
        probes.forEachBeaten("z", NORTH, (id, version, score) -> beaten.add(score));

        assertThat(beaten).containsExactly(0f, 0f);
    }

    @Test
    void forgetsProbesPushedOutOfTheWindow() {
        RecentProbes probes = new RecentProbes(2, 1);
        probes.add("a", 1, EAST, new float[] {0f});
        probes.add("b", 1, NORTH, new float[] {0f});
        probes.add("c", 1, NORTH, new float[] {0f});

        List<String> beaten = new ArrayList<>();
        probes.forEachBeaten("x", EAST, (id, version, score) -> beaten.add(id));
        assertThat(beaten).doesNotContain("a");
    }

    @Test
    void aRestoredWindowHoldsTheNewestProbesInOrderWithTheirBars() {
        RecentProbes before = new RecentProbes(2, 1);
        List<RecentProbes.Probe> state = new ArrayList<>();
        state.add(before.add("old", 1, NORTH, new float[] {0.1f}));
        state.add(before.add("east", 2, EAST, new float[] {0.5f}));
        state.add(before.add("north", 3, NORTH, new float[] {0.9f}));
        List<RecentProbes.Probe> decoded = state.stream().map(p -> RecentProbes.Probe.decode(p.encode())).toList();

        RecentProbes after = new RecentProbes(2, 1);
        List<RecentProbes.Probe> kept = after.restore(decoded.reversed());

        assertThat(kept).extracting(RecentProbes.Probe::productId).containsExactly("east", "north");
        List<String> beaten = new ArrayList<>();
        after.forEachBeaten("x", NORTH_EAST, (id, version, score) -> beaten.add(id + "@" + version));
        assertThat(beaten).containsExactly("east@2");
        // The next probe takes the slot after the restored ones.
        assertThat(after.add("next", 4, EAST, new float[0]).sequence()).isEqualTo(3);
    }
}
