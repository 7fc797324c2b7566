package dev.similarity.flink.index;

import dev.similarity.flink.embed.EmbeddingOutcome;
import dev.similarity.flink.event.ProductChange;
import dev.similarity.index.ShardAssignment;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.Objects;

/**
 * Keyed by product id: holds each product's newest vector and copies every change to all shards.
 * Fetch-and-embed completes out of order, so versions are checked again here; an image whose bytes
 * and category did not change is not re-indexed.
 */
public final class ProductVectorFanOut extends KeyedProcessFunction<String, EmbeddingOutcome, ShardMessage> {

    private static final long serialVersionUID = 1L;

    private final int shardCount;
    private final ShardRouting routing;
    private transient ValueState<StoredProduct> stored;
    private transient ValueState<Long> removedVersion;
    private transient Counter staleDropped;
    private transient Counter unchangedImages;

    public ProductVectorFanOut(int shardCount, ShardRouting routing) {
        this.shardCount = shardCount;
        this.routing = routing;
    }

    @Override
    public void open(OpenContext openContext) {
        stored = getRuntimeContext().getState(new ValueStateDescriptor<>("product", StoredProduct.class));
        removedVersion = getRuntimeContext().getState(new ValueStateDescriptor<>("removed-version", Long.class));
        staleDropped = getRuntimeContext().getMetricGroup().counter("staleEmbeddingsDropped");
        unchangedImages = getRuntimeContext().getMetricGroup().counter("unchangedImagesSkipped");
    }

    @Override
    public void processElement(EmbeddingOutcome outcome, Context ctx, Collector<ShardMessage> out) throws Exception {
        ProductChange change = outcome.change();
        StoredProduct previous = stored.value();
        Long removedAt = removedVersion.value();
        long newest = Math.max(previous == null ? -1 : previous.catalogueVersion(), removedAt == null ? -1 : removedAt);
        if (change.catalogueVersion() <= newest) {
            staleDropped.inc();
            return;
        }
        int owner = ShardAssignment.shardOf(change.productId(), shardCount);
        float[] previousVector = previous == null ? null : previous.vector();
        if (change.isRemoval()) {
            stored.clear();
            removedVersion.update(change.catalogueVersion());
            emitToAllShards(out, owner, ShardMessage.Type.REMOVE, change, null, previousVector);
            return;
        }
        StoredProduct next = new StoredProduct(change.catalogueVersion(), outcome.vector(), change.category(),
                change.imageUrl(), outcome.contentHash());
        stored.update(next);
        removedVersion.clear();
        if (previous != null && Objects.equals(previous.contentHash(), next.contentHash())
                && Objects.equals(previous.category(), next.category())) {
            unchangedImages.inc();
            return;
        }
        emitToAllShards(out, owner, ShardMessage.Type.UPSERT, change, outcome.vector(), previousVector);
    }

    private void emitToAllShards(Collector<ShardMessage> out, int owner, ShardMessage.Type type, ProductChange change,
                                 float[] vector, float[] previousVector) {
        for (int shard = 0; shard < shardCount; shard++) {
            out.collect(new ShardMessage(routing.keyOf(shard), shard, shardCount, owner, type, change.productId(), vector, previousVector,
                    change.category(), change.imageUrl(), change.catalogueVersion(), change.eventTimestamp()));
        }
    }
}
