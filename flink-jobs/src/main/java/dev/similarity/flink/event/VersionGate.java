package dev.similarity.flink.event;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keyed by product id: passes a change only if its catalogue version is newer than every version
 * passed before for that product, so a late, older update never overwrites a newer one. Equal
 * versions are stale too (a redelivered event).
 *
 * <p>Retries (changes that came back through the fetch-retry topic) are the exception: a retry of the
 * newest version is parked here, in keyed state with a processing-time timer, until its
 * {@link RetryState#notBefore()}, then passed on; it holds no download slot meanwhile. A newer event
 * for the product drops the parked retry, and a retry of a version older than the newest is dropped,
 * so an image is never fetched again once the catalogue has moved on.
 */
public final class VersionGate extends KeyedProcessFunction<String, ProductChange, ProductChange> {

    private static final long serialVersionUID = 1L;

    private transient ValueState<Long> newestVersion;
    private transient ValueState<ProductChange> parked;
    private transient Counter stale;
    private transient Counter retriesParked;
    private transient Counter retriesSuperseded;

    @Override
    public void open(OpenContext openContext) {
        newestVersion = getRuntimeContext().getState(new ValueStateDescriptor<>("newest-version", Long.class));
        parked = getRuntimeContext().getState(new ValueStateDescriptor<>("parked-retry", TypeInformation.of(ProductChange.class)));
        stale = getRuntimeContext().getMetricGroup().counter("staleEventsDropped");
        retriesParked = getRuntimeContext().getMetricGroup().counter("fetchRetriesParked");
        retriesSuperseded = getRuntimeContext().getMetricGroup().counter("fetchRetriesSuperseded");
    }

    @Override
    public void processElement(ProductChange change, Context ctx, Collector<ProductChange> out) throws Exception {
        Long newest = newestVersion.value();
        RetryState retry = change.source() == null ? null : change.source().retry();
        if (retry == null) {
            if (newest != null && change.catalogueVersion() <= newest) {
                stale.inc();
                return;
            }
            newestVersion.update(change.catalogueVersion());
            dropParked(ctx);
            out.collect(change);
            return;
        }
        if (newest != null && change.catalogueVersion() < newest) {
            retriesSuperseded.inc();
            return;
        }
        if (newest == null || change.catalogueVersion() > newest) {
            // A dead letter fed back in that never passed the gate (it failed to decode before a fix).
            newestVersion.update(change.catalogueVersion());
        }
        dropParked(ctx);
        if (retry.notBefore() <= ctx.timerService().currentProcessingTime()) {
            out.collect(change);
            return;
        }
        parked.update(change);
        retriesParked.inc();
        ctx.timerService().registerProcessingTimeTimer(retry.notBefore());
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ProductChange> out) throws Exception {
        ProductChange waiting = parked.value();
        if (waiting != null && waiting.source().retry().notBefore() <= timestamp) {
            parked.clear();
            out.collect(waiting);
        }
    }

    private void dropParked(Context ctx) throws Exception {
        ProductChange waiting = parked.value();
        if (waiting != null) {
            ctx.timerService().deleteProcessingTimeTimer(waiting.source().retry().notBefore());
            parked.clear();
            retriesSuperseded.inc();
        }
    }
}
