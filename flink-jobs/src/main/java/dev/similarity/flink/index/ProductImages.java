package dev.similarity.flink.index;

import dev.similarity.flink.embed.EmbeddingOutcome;
import dev.similarity.flink.event.ProductChange;
import dev.similarity.index.ImageMember;
import dev.similarity.index.ShardAssignment;
import org.apache.flink.api.common.functions.OpenContext;
import dev.similarity.flink.IndexerOptions;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.util.List;
import java.util.Objects;

/**
 * Keyed by product id: holds each product's current image and turns every change into image
 * membership changes, keyed by image (see {@link ImageChange}): a product that gets new image bytes
 * leaves its old image and joins the new one; a removed product leaves for good. Fetch-and-embed
 * completes out of order, so versions are checked again here; an image whose bytes and category did
 * not change is not re-indexed. Each change also goes to the shard of the product's own id ({@link
 * #PRODUCT_DOCUMENTS}), where snapshot readers find the product whichever image it shows.
 */
public final class ProductImages extends KeyedProcessFunction<String, EmbeddingOutcome, ImageChange>
        implements CheckpointedFunction {

    private static final long serialVersionUID = 1L;

    /** The product's document in the shard of its id: its image, category and URL, or its removal. */
    public static final OutputTag<ShardMessage> PRODUCT_DOCUMENTS = new OutputTag<>("product-documents") {};

    private final ShardRouting routing;
    /** The qualified id of the model whose embeddings this operator's products went into the shards with. */
    private final String modelId;

    private transient ValueState<StoredProduct> stored;
    /** The model of the state: written at every checkpoint, checked on restore (operator state, one entry a subtask). */
    private transient ListState<String> stateModel;
    private transient ValueState<Long> removedVersion;
    private transient Counter staleDropped;
    private transient Counter unchangedImages;

    /** @param modelId the qualified id ({@code modelId@version}) of the model the products are embedded with */
    public ProductImages(ShardRouting routing, String modelId) {
        this.routing = routing;
        this.modelId = modelId;
    }

    /** The state of each product's current image, catalogue version, category and URL (the model upgrade walks it). */
    public static ValueStateDescriptor<StoredProduct> productState() {
        return new ValueStateDescriptor<>("product", StoredProduct.class);
    }

    /** The version at which each removed product was removed. */
    public static ValueStateDescriptor<Long> removedVersionState() {
        return new ValueStateDescriptor<>("removed-version", Long.class);
    }

    /**
     * Refuses state of another model: its vectors, in the shards behind this operator, are not
     * comparable with the configured model's. State from before the model was recorded passes.
     *
     * @throws IllegalStateException naming both models and the option that upgrades from the restored one
     */
    @Override
    public void initializeState(FunctionInitializationContext context) throws Exception {
        stateModel = context.getOperatorStateStore().getUnionListState(new ListStateDescriptor<>("model-id", String.class));
        if (!context.isRestored()) return;
        for (String restored : stateModel.get()) {
            if (!restored.equals(modelId)) {
                throw new IllegalStateException("the restored state holds embeddings of model '" + restored
                        + "', but this operator embeds with model '" + modelId + "': vectors of two models are never mixed."
                        + " To upgrade without downtime, restart with " + IndexerOptions.PREVIOUS_MODEL_DIR.key()
                        + " set to the folder of model '" + restored + "' (docs/operations.md, upgrade the model);"
                        + " to keep serving it, set " + IndexerOptions.MODEL_DIR.key() + " to that folder");
            }
        }
    }

    @Override
    public void snapshotState(FunctionSnapshotContext context) throws Exception {
        stateModel.update(List.of(modelId));
    }

    @Override
    public void open(OpenContext openContext) {
        stored = getRuntimeContext().getState(productState());
        removedVersion = getRuntimeContext().getState(removedVersionState());
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
