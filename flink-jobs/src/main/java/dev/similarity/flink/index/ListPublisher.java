package dev.similarity.flink.index;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Keyed by product id: the last step before the lists topic. A product's lists come from the list of
 * the image it shows, and a product that changes its image is published by two image lists for a
 * while (the old one until it learns of the change): this keeps only what is news, so the compacted
 * topic's last record of a product is always its newest list or its tombstone. An update is published
 * if its catalogue version is newer than the last published, or the same version with other
 * neighbour ids; older versions, and anything after a tombstone of the same or a newer version, are
 * dropped.
 */
public final class ListPublisher extends KeyedProcessFunction<String, NeighbourListUpdate, NeighbourListUpdate> {

    private static final long serialVersionUID = 1L;

    /** Version (8 bytes), removed (1 byte), then the published neighbour ids, each UTF-8 followed by '\n'. */
    private transient ValueState<byte[]> published;
    private transient Counter listsPublished;
    private transient Counter tombstones;
    private transient Counter staleDropped;
    private transient Histogram eventToPublishMs;

    @Override
    public void open(OpenContext openContext) {
        published = getRuntimeContext().getState(new ValueStateDescriptor<>("published", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        listsPublished = getRuntimeContext().getMetricGroup().counter("listsPublished");
        tombstones = getRuntimeContext().getMetricGroup().counter("tombstonesPublished");
        staleDropped = getRuntimeContext().getMetricGroup().counter("staleListsDropped");
        eventToPublishMs = getRuntimeContext().getMetricGroup()
                .histogram("eventToPublishLatencyMs", new DescriptiveStatisticsHistogram(10_000));
    }

    @Override
    public void processElement(NeighbourListUpdate update, Context ctx, Collector<NeighbourListUpdate> out) throws Exception {
        byte[] last = published.value();
        byte[] ids = update.removed() ? new byte[0] : encodeIds(update.neighbourIds());
        if (last != null) {
            ByteBuffer in = ByteBuffer.wrap(last);
            long version = in.getLong();
            boolean removed = in.get() == 1;
            if (update.catalogueVersion() < version) {
                staleDropped.inc();
                return;
            }
            if (update.catalogueVersion() == version
                    && (removed || (!update.removed() && Arrays.equals(last, 9, last.length, ids, 0, ids.length)))) {
                return; // nothing new: the same list, or the product is gone at this version
            }
        }
        published.update(ByteBuffer.allocate(9 + ids.length).putLong(update.catalogueVersion())
                .put((byte) (update.removed() ? 1 : 0)).put(ids).array());
        long now = System.currentTimeMillis();
        listsPublished.inc();
        if (update.removed()) {
            tombstones.inc();
        }
        eventToPublishMs.update(Math.max(0, now - update.eventTimestamp()));
        out.collect(new NeighbourListUpdate(update.productId(), update.removed(), update.neighbourIds(), update.scores(),
                update.catalogueVersion(), update.eventTimestamp(), now));
    }

    private static byte[] encodeIds(String[] ids) {
        StringBuilder joined = new StringBuilder();
        for (String id : ids) {
            joined.append(id).append('\n');
        }
        return joined.toString().getBytes(StandardCharsets.UTF_8);
    }
}
