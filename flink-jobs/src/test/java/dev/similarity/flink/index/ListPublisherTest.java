package dev.similarity.flink.index;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A product moving between images is published by two image lists for a while: only news gets through. */
class ListPublisherTest {

    private KeyedOneInputStreamOperatorTestHarness<String, NeighbourListUpdate, NeighbourListUpdate> harness;

    @BeforeEach
    void open() throws Exception {
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new ListPublisher()), NeighbourListUpdate::productId, Types.STRING);
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private List<NeighbourListUpdate> publish(NeighbourListUpdate update) throws Exception {
        harness.processElement(update, 0L);
        List<NeighbourListUpdate> out = harness.extractOutputValues();
        harness.getOutput().clear();
        return out;
    }

    private static NeighbourListUpdate list(long version, String... ids) {
        return new NeighbourListUpdate("p", false, ids, new float[ids.length], version, 100, 0);
    }

    private static NeighbourListUpdate tombstone(long version) {
        return new NeighbourListUpdate("p", true, null, null, version, 100, 0);
    }

    @Test
    void anOlderVersionFromTheImageItLeftIsDropped() throws Exception {
        assertThat(publish(list(2, "a", "b"))).hasSize(1);
        assertThat(publish(list(1, "x", "y"))).isEmpty();
        assertThat(publish(list(3, "a", "b"))).as("a new version of the product is news").hasSize(1);
    }

    @Test
    void theSameListTwiceIsPublishedOnceAndOtherNeighboursAgain() throws Exception {
        assertThat(publish(list(1, "a", "b"))).hasSize(1);
        assertThat(publish(list(1, "a", "b"))).isEmpty();
        assertThat(publish(list(1, "b", "a"))).singleElement()
                .satisfies(u -> assertThat(u.computedTimestamp()).isGreaterThan(0));
    }

    @Test
    void nothingOfTheRemovedVersionOrOlderFollowsATombstoneButALaterVersionDoes() throws Exception {
        publish(list(1, "a"));
        assertThat(publish(tombstone(2))).singleElement().satisfies(u -> assertThat(u.removed()).isTrue());
        assertThat(publish(tombstone(2))).isEmpty();
        assertThat(publish(list(1, "late"))).isEmpty();
        assertThat(publish(list(2, "late"))).isEmpty();
        assertThat(publish(list(3, "back"))).hasSize(1);
    }
}
