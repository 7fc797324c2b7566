package dev.similarity.flink.index;

import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.api.common.typeinfo.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class NeighbourListFunctionTest {

    private static final float[] VECTOR = {1f, 0f};
    private KeyedOneInputStreamOperatorTestHarness<String, ListMessage, NeighbourListUpdate> harness;

    @BeforeEach
    void open() throws Exception {
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new NeighbourListFunction(2, 1)), ListMessage::target, Types.STRING);
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private void send(ListMessage message) throws Exception {
        harness.processElement(message, 0L);
    }

    private List<NeighbourListUpdate> published() {
        List<NeighbourListUpdate> out = harness.extractOutputValues();
        harness.getOutput().clear();
        return out;
    }

    @Test
    void publishesOnceEveryShardHasAnsweredWithTheBestK() throws Exception {
        send(ListMessage.partial("p", 1, 2, new String[] {"a", "b"}, new float[] {0.9f, 0.5f}, VECTOR, 100));
        assertThat(published()).isEmpty();
        send(ListMessage.partial("p", 1, 2, new String[] {"c"}, new float[] {0.7f}, VECTOR, 100));
        List<NeighbourListUpdate> out = published();
        assertThat(out).hasSize(1);
        assertThat(out.get(0).neighbourIds()).containsExactly("a", "c");
        assertThat(out.get(0).catalogueVersion()).isEqualTo(1);
    }

    @Test
    void aBetterNewProductEntersThePublishedListAndAWorseOneChangesNothing() throws Exception {
        send(ListMessage.partial("p", 1, 1, new String[] {"a", "b", "c"}, new float[] {0.9f, 0.5f, 0.4f}, VECTOR, 100));
        published();
        send(ListMessage.candidate("p", 1, "x", 0.1f, 200));
        assertThat(published()).isEmpty();
        send(ListMessage.candidate("p", 1, "y", 0.95f, 300));
        List<NeighbourListUpdate> out = published();
        assertThat(out).singleElement().satisfies(u -> {
            assertThat(u.neighbourIds()).containsExactly("y", "a");
            assertThat(u.eventTimestamp()).isEqualTo(300);
        });
    }

    @Test
    void aCandidateScoredAgainstAnotherVersionOfTheProductIsIgnored() throws Exception {
        send(ListMessage.partial("p", 2, 1, new String[] {"a", "b"}, new float[] {0.9f, 0.5f}, VECTOR, 100));
        published();
        send(ListMessage.candidate("p", 1, "stale", 0.99f, 200));
        assertThat(published()).isEmpty();
        send(ListMessage.candidate("p", 2, "fresh", 0.99f, 300));
        assertThat(published()).singleElement().satisfies(u -> assertThat(u.neighbourIds()).containsExactly("fresh", "a"));
    }

    @Test
    void aRemovedNeighbourIsReplacedFromTheReserve() throws Exception {
        send(ListMessage.partial("p", 1, 1, new String[] {"a", "b", "c"}, new float[] {0.9f, 0.5f, 0.4f}, VECTOR, 100));
        published();
        send(ListMessage.drop("p", "a", 200));
        assertThat(published()).singleElement().satisfies(u -> assertThat(u.neighbourIds()).containsExactly("b", "c"));
        send(ListMessage.drop("p", "nobody", 300));
        assertThat(published()).isEmpty();
    }

    @Test
    void aRescoredNeighbourMovesByItsNewVector() throws Exception {
        send(ListMessage.partial("p", 1, 1, new String[] {"a", "b", "c"}, new float[] {0.9f, 0.5f, 0.4f}, VECTOR, 100));
        published();
        send(ListMessage.rescore("p", "a", new float[] {0f, 1f}, 200)); // now orthogonal: score 0
        assertThat(published()).singleElement().satisfies(u -> assertThat(u.neighbourIds()).containsExactly("b", "c"));
    }

    @Test
    void aRemovedProductGetsOneTombstoneAndIgnoresLaterCandidates() throws Exception {
        send(ListMessage.partial("p", 1, 1, new String[] {"a"}, new float[] {0.9f}, VECTOR, 100));
        published();
        send(ListMessage.removed("p", 2, 200));
        assertThat(published()).singleElement().satisfies(u -> assertThat(u.removed()).isTrue());
        send(ListMessage.removed("p", 2, 200));
        send(ListMessage.candidate("p", -1, "z", 0.99f, 300));
        send(ListMessage.partial("p", 1, 1, new String[] {"a"}, new float[] {0.9f}, VECTOR, 100));
        assertThat(published()).isEmpty();
    }

    @Test
    void aPartialOfAnOlderVersionIsIgnored() throws Exception {
        send(ListMessage.partial("p", 2, 1, new String[] {"a"}, new float[] {0.9f}, VECTOR, 100));
        published();
        send(ListMessage.partial("p", 1, 1, new String[] {"old"}, new float[] {0.99f}, VECTOR, 50));
        assertThat(published()).isEmpty();
    }
}
