package dev.similarity.flink.upgrade;

import dev.similarity.flink.index.NeighbourListUpdate;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by product id, in front of the lists topic during a model upgrade. Before the switch it passes
 * the previous model's lists and holds the new model's newest list of each product unpublished; on
 * the {@link ModelSwitch} (broadcast, once) it publishes every held list, and from then on passes the
 * new model's lists and drops the previous model's. So each product's records on the topic are lists
 * of the previous model, then lists of the new one, never mixed; every held list is published once
 * (a tombstone the previous model already published for the same or a newer version is not repeated).
 *
 * <p>The switch is one record on the broadcast channel, which every subtask takes between the same two
 * checkpoint barriers: the lists it publishes commit with that checkpoint's transactions. Publishing
 * the held lists is one pass over this subtask's products ({@code applyToKeyedState}).
 */
public final class ModelSwitchGate extends KeyedBroadcastProcessFunction<String, ModelList, ModelSwitch, ModelList> {

    private static final long serialVersionUID = 1L;

    /** Holds "switched" -> the walk epoch, once the switch came. */
    public static final MapStateDescriptor<String, Long> SWITCH =
            new MapStateDescriptor<>("model-switch", Types.STRING, Types.LONG);
    private static final String SWITCHED = "switched";

    /**
     * A product's gate: the new model's newest list, held until the switch (null when none or published),
     * and the version of the last tombstone published for it (-1: none, or a list was published after it).
     */
    public record Gate(NeighbourListUpdate held, long tombstoneVersion) {}

    private static final ValueStateDescriptor<Gate> GATE = new ValueStateDescriptor<>("model-gate", Gate.class);

    private transient ValueState<Gate> gate;
    private transient Counter held;
    private transient Counter publishedAtSwitch;
    private transient Counter previousDropped;

    @Override
    public void open(OpenContext openContext) {
        gate = getRuntimeContext().getState(GATE);
        held = getRuntimeContext().getMetricGroup().counter("modelUpgradeListsHeld");
        publishedAtSwitch = getRuntimeContext().getMetricGroup().counter("modelUpgradeListsPublishedAtSwitch");
        previousDropped = getRuntimeContext().getMetricGroup().counter("modelUpgradePreviousListsDropped");
    }

    @Override
    public void processElement(ModelList list, ReadOnlyContext ctx, Collector<ModelList> out) throws Exception {
        boolean switched = ctx.getBroadcastState(SWITCH).contains(SWITCHED);
        Gate state = gate.value();
        NeighbourListUpdate update = list.update();
        if (list.next() && !switched) {
            gate.update(new Gate(update, state == null ? -1 : state.tombstoneVersion()));
            held.inc();
            return;
        }
        if (!list.next() && switched) {
            previousDropped.inc();
            return;
        }
        if (update.removed() && state != null && state.tombstoneVersion() >= update.catalogueVersion()) {
            return; // the previous model published this product's tombstone already
        }
        out.collect(list);
        long tombstone = update.removed() ? update.catalogueVersion() : -1;
        if (state == null ? tombstone >= 0 : state.tombstoneVersion() != tombstone) {
            gate.update(new Gate(null, tombstone));
        }
    }

    @Override
    public void processBroadcastElement(ModelSwitch modelSwitch, Context ctx, Collector<ModelList> out) throws Exception {
        BroadcastState<String, Long> switchState = ctx.getBroadcastState(SWITCH);
        if (switchState.contains(SWITCHED)) {
            return;
        }
        switchState.put(SWITCHED, modelSwitch.epoch());
        ctx.applyToKeyedState(GATE, (product, state) -> {
            Gate g = state.value();
            if (g == null || g.held() == null) return;
            NeighbourListUpdate update = g.held();
            if (update.removed() && g.tombstoneVersion() >= update.catalogueVersion()) {
                state.update(new Gate(null, g.tombstoneVersion()));
                return;
            }
            out.collect(new ModelList(true, update));
            publishedAtSwitch.inc();
            state.update(new Gate(null, update.removed() ? update.catalogueVersion() : -1));
        });
    }
}
