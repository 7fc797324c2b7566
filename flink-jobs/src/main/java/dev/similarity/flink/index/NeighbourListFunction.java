package dev.similarity.flink.index;

import org.apache.lucene.util.VectorUtil;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.Arrays;

/**
 * Keyed by product id: gathers the shards' partial results into the product's list and keeps it
 * right as other products arrive, change and go. Publishes only when the top-k ids or the product's
 * own version changed; a removed product gets one tombstone.
 */
public final class NeighbourListFunction extends KeyedProcessFunction<String, ListMessage, NeighbourListUpdate> {

    private static final long serialVersionUID = 1L;

    private final int k;
    private final int depth;
    /** {@link ProductNeighbours} in its compact encoding: read for nearly every message, so cheap to decode. */
    private transient ValueState<byte[]> neighbours;
    /** The product's own vector, kept apart so that the frequent candidate updates do not read it. */
    private transient ValueState<float[]> ownVector;
    private transient ValueState<Long> removedVersion;
    private transient Counter listsPublished;
    private transient Counter tombstones;
    private transient Histogram eventToPublishMs;

    public NeighbourListFunction(int k, int reserve) {
        this.k = k;
        this.depth = k + reserve;
    }

    @Override
    public void open(OpenContext openContext) {
        neighbours = getRuntimeContext().getState(new ValueStateDescriptor<>("neighbours", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        removedVersion = getRuntimeContext().getState(new ValueStateDescriptor<>("removed-version", Long.class));
        ownVector = getRuntimeContext().getState(new ValueStateDescriptor<>("own-vector", float[].class));
        listsPublished = getRuntimeContext().getMetricGroup().counter("listsPublished");
        tombstones = getRuntimeContext().getMetricGroup().counter("tombstonesPublished");
        eventToPublishMs = getRuntimeContext().getMetricGroup()
                .histogram("eventToPublishLatencyMs", new DescriptiveStatisticsHistogram(10_000));
    }

    @Override
    public void processElement(ListMessage message, Context ctx, Collector<NeighbourListUpdate> out) throws Exception {
        byte[] stored = neighbours.value();
        if (message.type() == ListMessage.Type.CANDIDATE && stored != null && candidateChangesNothing(stored, message)) {
            return; // most candidates do not rank: decided without decoding the state
        }
        ProductNeighbours state = stored == null ? null : ProductNeighbours.decode(stored);
        Long removedAt = removedVersion.value();
        switch (message.type()) {
            case REMOVED -> {
                if (removedAt != null && removedAt >= message.catalogueVersion()) {
                    return;
                }
                neighbours.clear();
                ownVector.clear();
                removedVersion.update(message.catalogueVersion());
                tombstones.inc();
                publish(out, new NeighbourListUpdate(message.target(), true, null, null, message.catalogueVersion(),
                        message.eventTimestamp(), System.currentTimeMillis()));
                return;
            }
            case PARTIAL -> {
                if (removedAt != null && message.catalogueVersion() <= removedAt) {
                    return;
                }
                if (state == null) {
                    state = new ProductNeighbours();
                }
                if (message.catalogueVersion() < state.version) {
                    return;
                }
                if (message.catalogueVersion() > state.version) {
                    state.startVersion(message.catalogueVersion(), message.shardCount());
                    ownVector.update(message.vector());
                    removedVersion.clear();
                }
                for (int i = 0; i < message.ids().length; i++) {
                    state.offer(message.ids()[i], message.scores()[i], depth);
                }
                state.partialsReceived++;
            }
            case CANDIDATE -> {
                if (state == null) {
                    if (removedAt != null) {
                        return;
                    }
                    state = new ProductNeighbours();
                }
                boolean scoredAgainstOtherVersion = message.catalogueVersion() >= 0 && state.version >= 0
                        && message.catalogueVersion() != state.version;
                if (scoredAgainstOtherVersion || !state.offer(message.candidateId(), message.score(), depth)) {
                    return; // most candidates do not rank: no state write
                }
            }
            case RESCORE -> {
                float[] vector = state == null ? null : ownVector.value();
                if (vector == null || !state.offer(message.candidateId(), VectorUtil.dotProduct(vector, message.vector()), depth)) {
                    return;
                }
            }
            case DROP -> {
                if (state == null || !state.remove(message.candidateId())) {
                    return;
                }
            }
        }
        if (state.complete()) {
            String[] top = state.topIds(k);
            if (!Arrays.equals(top, state.publishedIds) || state.version != state.publishedVersion) {
                state.publishedIds = top;
                state.publishedVersion = state.version;
                publish(out, new NeighbourListUpdate(message.target(), false, top, state.topScores(k), state.version,
                        message.eventTimestamp(), System.currentTimeMillis()));
            }
        }
        neighbours.update(state.encode());
    }

    private boolean candidateChangesNothing(byte[] stored, ListMessage message) {
        long version = ProductNeighbours.encodedVersion(stored);
        boolean scoredAgainstOtherVersion = message.catalogueVersion() >= 0 && version >= 0
                && message.catalogueVersion() != version;
        return scoredAgainstOtherVersion
                || !ProductNeighbours.offerWouldChange(stored, message.candidateId(), message.score(), depth);
    }

    private void publish(Collector<NeighbourListUpdate> out, NeighbourListUpdate update) {
        listsPublished.inc();
        eventToPublishMs.update(Math.max(0, update.computedTimestamp() - update.eventTimestamp()));
        out.collect(update);
    }
}
