package dev.similarity.flink.upgrade;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by product id, during a model upgrade: whether the walk sent the product to the new model
 * (EXPECTED) and whether the new model has published its list or tombstone (LISTED), in either order.
 * Emits one COUNT per EXPECTED message, so the coordinator knows when every message a walk sent has
 * been counted, and changes of the number of expected products still without a new-model list:
 * +1 when an expected product has none yet, -1 when it gets one. A product sent twice (a walk
 * repeated after a restore) counts once in that number.
 */
public final class UpgradeTracker extends KeyedProcessFunction<String, UpgradeProgress, UpgradeProgress> {

    private static final long serialVersionUID = 1L;
    private static final byte EXPECTED = 1;
    private static final byte LISTED = 2;

    private transient ValueState<Byte> seen;

    @Override
    public void open(OpenContext openContext) {
        seen = getRuntimeContext().getState(new ValueStateDescriptor<>("upgrade-seen", Types.BYTE));
    }

    @Override
    public void processElement(UpgradeProgress message, Context ctx, Collector<UpgradeProgress> out) throws Exception {
        Byte stored = seen.value();
        byte flags = stored == null ? 0 : stored;
        switch (message.kind()) {
            case EXPECTED -> {
                boolean nowPending = (flags & (EXPECTED | LISTED)) == 0;
                out.collect(UpgradeProgress.count(message.epoch(), 1, nowPending ? 1 : 0));
                flags |= EXPECTED;
            }
            case LISTED -> {
                if ((flags & LISTED) != 0) return;
                if ((flags & EXPECTED) != 0) {
                    out.collect(UpgradeProgress.count(-1, 0, -1));
                }
                flags |= LISTED;
            }
            default -> throw new IllegalArgumentException("not a tracker message: " + message.kind());
        }
        seen.update(flags);
    }
}
