package dev.similarity.flink.event;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by product id: passes a change only if its catalogue version is newer than every version
 * passed before for that product, so a late, older update never overwrites a newer one. Equal
 * versions are stale too (a redelivered event).
 */
public final class VersionGate extends KeyedProcessFunction<String, ProductChange, ProductChange> {

    private static final long serialVersionUID = 1L;

    private transient ValueState<Long> newestVersion;
    private transient Counter stale;

    @Override
    public void open(OpenContext openContext) {
        newestVersion = getRuntimeContext().getState(new ValueStateDescriptor<>("newest-version", Long.class));
        stale = getRuntimeContext().getMetricGroup().counter("staleEventsDropped");
    }

    @Override
    public void processElement(ProductChange change, Context ctx, Collector<ProductChange> out) throws Exception {
        Long newest = newestVersion.value();
        if (newest != null && change.catalogueVersion() <= newest) {
            stale.inc();
            return;
        }
        newestVersion.update(change.catalogueVersion());
        out.collect(change);
    }
}
