package dev.similarity.flink.upgrade;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.BitSet;
import java.util.List;

/**
 * One instance (keyed by a constant): decides when the new model's index is complete and emits the
 * {@link ModelSwitch} once. Complete means, for the newest walk epoch: every walker subtask reported
 * WALK_DONE, the tracker counted as many EXPECTED messages as the walkers declared sending (so every
 * product of the walk is in the pending count), and no expected product is pending (each has a list
 * or tombstone of the new model). All of it is keyed state, so the decision is checkpointed with the
 * lists it depends on and is taken exactly once.
 */
public final class UpgradeCoordinator extends KeyedProcessFunction<Integer, UpgradeProgress, ModelSwitch>
        implements CheckpointedFunction, CheckpointListener {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(UpgradeCoordinator.class);

    /** The coordinator's bookkeeping; {@code walkersDone} as a BitSet's long words. */
    public record Progress(long epoch, int walkers, long[] walkersDone, long declared, long received, long pending,
                           boolean switched) {}

    private final String stagingDir;
    private final String modelId;
    private transient ValueState<Progress> progress;
    private transient volatile Progress current;
    /** The first checkpoint taken after the switch (operator state, so a restore still writes the marker); -1: none. */
    private transient ListState<Long> switchCheckpoint;
    private transient long switchedInCheckpoint = -1;
    private transient boolean markerWritten;

    /** @param stagingDir the new model's staging folder, where the switch marker goes; @param modelId the new model's qualified id */
    public UpgradeCoordinator(String stagingDir, String modelId) {
        this.stagingDir = stagingDir;
        this.modelId = modelId;
    }

    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        switchCheckpoint = context.getOperatorStateStore().getListState(new ListStateDescriptor<>("model-switch-checkpoint", Long.class));
        for (Long id : switchCheckpoint.get()) switchedInCheckpoint = Math.max(switchedInCheckpoint, id);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        if (switchedInCheckpoint < 0 && current != null && current.switched()) {
            switchedInCheckpoint = context.getCheckpointId();
        }
        switchCheckpoint.update(switchedInCheckpoint < 0 ? List.of() : List.of(switchedInCheckpoint));
    }

    /** Once the checkpoint holding the switch completed: the marker, for the shards and for later restarts. */
    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        if (!markerWritten && switchedInCheckpoint >= 0 && checkpointId >= switchedInCheckpoint) {
            ModelSwitchMarker.write(stagingDir, modelId, switchedInCheckpoint);
            markerWritten = true;
            LOG.info("model upgrade: switched to {} at checkpoint {}", modelId, switchedInCheckpoint);
        }
    }

    @Override
    public void open(OpenContext openContext) {
        progress = getRuntimeContext().getState(new ValueStateDescriptor<>("model-upgrade-progress", Progress.class));
        getRuntimeContext().getMetricGroup().gauge("modelUpgradePending", () -> current == null ? -1L : current.pending());
        getRuntimeContext().getMetricGroup().gauge("modelUpgradeProductsWalked", () -> current == null ? -1L : current.received());
        getRuntimeContext().getMetricGroup().gauge("modelUpgradeSwitched", () -> current != null && current.switched() ? 1 : 0);
    }

    @Override
    public void processElement(UpgradeProgress message, Context ctx, Collector<ModelSwitch> out) throws Exception {
        Progress p = progress.value();
        if (p == null) {
            p = new Progress(0, 0, new long[0], 0, 0, 0, false);
        }
        long epoch = p.epoch();
        int walkers = p.walkers();
        BitSet done = BitSet.valueOf(p.walkersDone());
        long declared = p.declared();
        long received = p.received();
        long pending = p.pending() + message.pendingDelta();
        if (message.epoch() > epoch) {
            // A walk repeated after a restore: its own messages count, those of the one before do not.
            epoch = message.epoch();
            walkers = 0;
            done.clear();
            declared = 0;
            received = 0;
        }
        if (message.epoch() == epoch) {
            if (message.kind() == UpgradeProgress.Kind.WALK_DONE) {
                walkers = message.subtasks();
                done.set(message.subtask());
                declared += message.count();
            } else {
                received += message.count();
            }
        }
        boolean complete = walkers > 0 && done.cardinality() == walkers && received == declared && pending == 0;
        boolean switched = p.switched();
        if (complete && !switched) {
            switched = true;
            LOG.info("model upgrade: all {} products of walk {} have lists of the new model: switching", declared, epoch);
            out.collect(new ModelSwitch(epoch, declared, System.currentTimeMillis()));
        }
        current = new Progress(epoch, walkers, done.toLongArray(), declared, received, pending, switched);
        progress.update(current);
    }
}
