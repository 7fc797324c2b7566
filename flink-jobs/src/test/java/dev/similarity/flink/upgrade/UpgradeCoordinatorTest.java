package dev.similarity.flink.upgrade;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The switch comes once, only when every walker finished, every product it sent was counted, and each has a new-model list. */
class UpgradeCoordinatorTest {

    @TempDir
    Path staging;
    private KeyedOneInputStreamOperatorTestHarness<Integer, UpgradeProgress, ModelSwitch> harness;

    @BeforeEach
    void open() throws Exception {
        harness = ProcessFunctionTestHarnesses.forKeyedProcessFunction(new UpgradeCoordinator(staging.toUri().toString(), "m@2"),
                progress -> 0, Types.INT);
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private List<ModelSwitch> send(UpgradeProgress progress) throws Exception {
        harness.processElement(progress, 0L);
        List<ModelSwitch> out = harness.extractOutputValues();
        harness.getOutput().clear();
        return out;
    }

    @Test
    void switchesOnceEveryWalkerIsDoneEveryProductCountedAndNonePending() throws Exception {
        assertThat(send(UpgradeProgress.count(1, 1, 1))).isEmpty();
        assertThat(send(UpgradeProgress.walkDone(1, 0, 2, 2))).isEmpty();
        assertThat(send(UpgradeProgress.count(-1, 0, -1))).as("walker 1 has not reported").isEmpty();
        assertThat(send(UpgradeProgress.walkDone(1, 1, 2, 0))).as("one product of walker 0 not counted yet").isEmpty();
        assertThat(send(UpgradeProgress.count(1, 1, 1))).as("counted, but without a new-model list").isEmpty();
        assertThat(send(UpgradeProgress.count(-1, 0, -1))).singleElement()
                .satisfies(s -> assertThat(s.products()).isEqualTo(2));
        assertThat(send(UpgradeProgress.count(1, 1, 1))).as("never twice").isEmpty();
    }

    @Test
    void aRepeatedWalkCountsOnlyItsOwnMessages() throws Exception {
        send(UpgradeProgress.count(1, 1, 1));
        send(UpgradeProgress.walkDone(2, 0, 1, 1));
        assertThat(send(UpgradeProgress.count(1, 1, 0))).as("walk 1's late message").isEmpty();
        assertThat(send(UpgradeProgress.count(2, 1, 0))).as("its product is still pending").isEmpty();
        assertThat(send(UpgradeProgress.count(-1, 0, -1))).hasSize(1);
    }

    @Test
    void theMarkerIsWrittenWhenTheCheckpointHoldingTheSwitchCompletes() throws Exception {
        send(UpgradeProgress.walkDone(1, 0, 1, 0));
        harness.snapshot(7, 0);
        assertThat(ModelSwitchMarker.exists(staging.toUri().toString())).isFalse();
        harness.notifyOfCompletedCheckpoint(7);
        assertThat(ModelSwitchMarker.exists(staging.toUri().toString())).isTrue();
    }
}
