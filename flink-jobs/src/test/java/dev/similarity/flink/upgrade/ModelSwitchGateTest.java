package dev.similarity.flink.upgrade;

import dev.similarity.flink.index.NeighbourListUpdate;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedBroadcastOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Before the switch the previous model's lists pass and the new model's wait; at the switch each waiting list is published once. */
class ModelSwitchGateTest {

    private KeyedBroadcastOperatorTestHarness<String, ModelList, ModelSwitch, ModelList> harness;

    @BeforeEach
    void open() throws Exception {
        harness = ProcessFunctionTestHarnesses.forKeyedBroadcastProcessFunction(new ModelSwitchGate(),
                list -> list.update().productId(), Types.STRING, ModelSwitchGate.SWITCH);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private List<ModelList> send(ModelList list) throws Exception {
        harness.processElement(list, 0L);
        return drain();
    }

    private List<ModelList> switchOver() throws Exception {
        harness.processBroadcastElement(new ModelSwitch(1, 2, 0), 0L);
        return drain();
    }

    private List<ModelList> drain() {
        List<ModelList> out = harness.extractOutputValues();
        harness.getOutput().clear();
        return out;
    }

    private static ModelList list(boolean next, String product, long version, String... ids) {
        return new ModelList(next, new NeighbourListUpdate(product, false, ids, new float[ids.length], version, 100, 1));
    }

    private static ModelList tombstone(boolean next, String product, long version) {
        return new ModelList(next, new NeighbourListUpdate(product, true, null, null, version, 100, 1));
    }

    @Test
    void thePreviousModelsListsPassAndTheNewModelsWaitForTheSwitch() throws Exception {
        assertThat(send(list(false, "p", 1, "a"))).hasSize(1);
        assertThat(send(list(true, "p", 1, "b"))).isEmpty();
        assertThat(send(list(true, "p", 1, "c"))).isEmpty();
        assertThat(send(list(true, "q", 1, "a"))).isEmpty();
        List<ModelList> published = switchOver();
        assertThat(published).as("the newest held list of each product, once").hasSize(2).allMatch(ModelList::next);
        assertThat(published).filteredOn(l -> l.update().productId().equals("p"))
                .singleElement().satisfies(l -> assertThat(l.update().neighbourIds()).containsExactly("c"));
        assertThat(switchOver()).as("a second switch record publishes nothing").isEmpty();
    }

    @Test
    void afterTheSwitchOnlyTheNewModelsListsPass() throws Exception {
        switchOver();
        assertThat(send(list(false, "p", 2, "a"))).isEmpty();
        assertThat(send(list(true, "p", 2, "b"))).singleElement().satisfies(l -> assertThat(l.next()).isTrue());
    }

    @Test
    void aTombstoneThePreviousModelPublishedIsNotRepeated() throws Exception {
        assertThat(send(tombstone(false, "p", 2))).hasSize(1);
        assertThat(send(tombstone(true, "p", 2))).isEmpty();
        assertThat(switchOver()).isEmpty();
        assertThat(send(tombstone(true, "p", 2))).as("nor after the switch").isEmpty();
        assertThat(send(list(true, "p", 3, "a"))).as("a comeback is published").hasSize(1);
    }
}
