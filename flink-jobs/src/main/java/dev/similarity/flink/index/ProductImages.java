package dev.similarity.flink.index;

import dev.similarity.flink.embed.EmbeddingOutcome;
import dev.similarity.flink.event.ProductChange;
import dev.similarity.index.ImageMember;
import dev.similarity.index.ShardAssignment;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.util.Objects;

/**
 * Keyed by product id: holds each product's current image and turns every change into image
 * membership changes, keyed by image (see {@link ImageChange}): a product that gets new image bytes
 * leaves its old image and joins the new one; a removed product leaves for good. Fetch-and-embed
 * completes out of order, so versions are checked again here; an image whose bytes and category did
 * not change is not re-indexed. Each change also goes to the shard of the product's own id ({@link
 * #PRODUCT_DOCUMENTS}), where snapshot readers find the product whichever image it shows.
 */
public final class ProductImages extends KeyedProcessFunction<String, EmbeddingOutcome, ImageChange> {

    private static final long serialVersionUID = 1L;

    /** The product's document in the shard of its id: its image, category and URL, or its removal. */
    public static final OutputTag<ShardMessage> PRODUCT_DOCUMENTS = new OutputTag<>("product-documents") {};

    private final ShardRouting routing;

    private transient ValueState<StoredProduct> stored;
    private transient ValueState<Long> removedVersion;
    private transient Counter staleDropped;
    private transient Counter unchangedImages;

    public ProductImages(ShardRouting routing) {
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
    public void processElement(EmbeddingOutcome outcome, Context ctx, Collector<ImageChange> out) throws Exception {
        ProductChange change = outcome.change();
        StoredProduct previous = stored.value();
        Long removedAt = removedVersion.value();
        long newest = Math.max(previous == null ? -1 : previous.catalogueVersion(), removedAt == null ? -1 : removedAt);
        if (change.catalogueVersion() <= newest) {
            staleDropped.inc();
            return;
        }
        String id = change.productId();
        if (change.isRemoval()) {
            stored.clear();
            removedVersion.update(change.catalogueVersion());
            // A product never indexed (its image failed, say) still gets its tombstone, by a key of its own.
            String image = previous == null ? ImageKeys.ofProductWithoutImage(id) : previous.imageKey();
            out.collect(new ImageChange(image, ImageChange.Type.REMOVE, id, change.catalogueVersion(), null, null, null,
                    change.eventTimestamp()));
            if (previous != null) {
                toProductShard(ctx, ShardMessage.Type.PRODUCT_REMOVED, previous.imageKey(), null,
                        new ImageMember(id, previous.imageKey(), 0, null, null), change.eventTimestamp());
            }
            return;
        }
        String image = outcome.contentHash() == null ? ImageKeys.ofProductWithoutImage(id) : ImageKeys.of(outcome.contentHash());
        stored.update(new StoredProduct(change.catalogueVersion(), change.category(), change.imageUrl(), image));
        removedVersion.clear();
        if (previous != null && previous.imageKey().equals(image) && Objects.equals(previous.category(), change.category())) {
            unchangedImages.inc();
            return;
        }
        if (previous != null && !previous.imageKey().equals(image)) {
            out.collect(new ImageChange(previous.imageKey(), ImageChange.Type.LEAVE, id, change.catalogueVersion(), null,
                    null, null, change.eventTimestamp()));
        }
        out.collect(new ImageChange(image, ImageChange.Type.JOIN, id, change.catalogueVersion(), outcome.vector(),
                change.category(), change.imageUrl(), change.eventTimestamp()));
        toProductShard(ctx, ShardMessage.Type.PRODUCT_PUT, image, outcome.vector(),
                new ImageMember(id, image, 0, change.category(), change.imageUrl()), change.eventTimestamp());
    }

    private void toProductShard(Context ctx, ShardMessage.Type type, String image, float[] vector, ImageMember product,
                                long at) {
        int shards = routing.shardCount();
        int shard = ShardAssignment.shardOf(product.productId(), shards);
        ctx.output(PRODUCT_DOCUMENTS, new ShardMessage(routing.keyOf(shard), shard, shards, shard, type, image, 0, vector,
                null, product, at));
    }
}
