package dev.similarity.flink.upgrade;

import dev.similarity.flink.embed.EmbeddingOutcome;
import dev.similarity.flink.event.ProductChange;
import dev.similarity.flink.index.ImageChange;
import dev.similarity.flink.index.ProductImages;
import dev.similarity.flink.index.StoredProduct;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The previous model's {@link ProductImages} during a model upgrade: it goes on doing its job (same
 * uid, same state) and besides walks its own keyed state, product by product, sending every product it
 * holds to the new model ({@link #REEMBED}: an upsert of the product's current version, category and
 * image URL) and to the upgrade's count ({@link #PROGRESS}: EXPECTED, then one WALK_DONE per subtask).
 *
 * <p>The walk is paced by a processing-time timer ({@code ratePerSecond} over all subtasks, in ticks
 * of {@value #TICK_MS} ms), so each mailbox call emits a few records and checkpoints pass between
 * them. It reads the keys through one RocksDB iterator, a consistent view as of the walk's start;
 * each product's value is read when it is sent, so a product removed since is skipped, and one changed
 * since is sent at its newest version (products added since reach the new model as live events).
 *
 * <p>While its walk is unfinished, every change this operator applies is also sent to the new model
 * (and counted as EXPECTED): changes that were in flight in the previous model's fetch-and-embed when
 * the savepoint was taken come back after the restore to this model only, and the walk's iterator may
 * have opened before or after they were applied. The live path sends most of these changes to the new
 * model too; its {@code ProductImages} drops the second copy of a version.
 *
 * <p>Checkpointed: the walk's epoch and whether this subtask finished it (union list state). A job
 * restored before every subtask finished walks again from the start in the next epoch (the new
 * model's {@code ProductImages} drops the versions it already holds, but their images are fetched and
 * embedded again); a finished walk is never repeated.
 */
public final class ReembeddingProductImages extends KeyedProcessOperator<String, EmbeddingOutcome, ImageChange> {

    private static final long serialVersionUID = 1L;
    private static final long TICK_MS = 100;

    /** Products for the new model to embed. */
    public static final OutputTag<ProductChange> REEMBED = new OutputTag<>("reembed-with-new-model") {};
    /** EXPECTED per product sent, then WALK_DONE. */
    public static final OutputTag<UpgradeProgress> PROGRESS = new OutputTag<>("model-upgrade-progress") {};

    private final double ratePerSecond;

    /** "epoch,finished" per subtask. */
    private transient ListState<String> walkState;
    private transient long epoch;
    private transient boolean finished;
    private transient Stream<String> keyStream;
    private transient Iterator<String> keys;
    private transient double allowance;
    private transient long sent;
    private transient ValueState<StoredProduct> products;
    private transient ValueState<Long> removedVersions;
    private transient Counter reembedded;

    /** @param ratePerSecond products sent to the new model per second, over all subtasks */
    public ReembeddingProductImages(ProductImages function, double ratePerSecond) {
        super(function);
        this.ratePerSecond = ratePerSecond;
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        walkState = context.getOperatorStateStore().getUnionListState(new ListStateDescriptor<>("model-upgrade-walk", String.class));
        long restoredEpoch = 0;
        boolean allFinished = true;
        boolean any = false;
        for (String entry : walkState.get()) {
            String[] parts = entry.split(",");
            long e = Long.parseLong(parts[0]);
            if (e > restoredEpoch) {
                restoredEpoch = e;
                allFinished = true;
            }
            if (e == restoredEpoch) {
                any = true;
                allFinished &= Boolean.parseBoolean(parts[1]);
            }
        }
        // Every subtask of the last walk finished: its counts are in the checkpoint. Else walk again, all subtasks.
        finished = any && allFinished;
        epoch = finished ? restoredEpoch : restoredEpoch + 1;
    }

    @Override
    public void open() throws Exception {
        super.open();
        products = getPartitionedState(ProductImages.productState());
        removedVersions = getPartitionedState(ProductImages.removedVersionState());
        reembedded = getMetricGroup().counter("modelUpgradeProductsSent");
        getMetricGroup().gauge("modelUpgradeWalkFinished", () -> finished ? 1 : 0);
        if (!finished) {
            scheduleTick();
        }
    }

    @Override
    public void processElement(StreamRecord<EmbeddingOutcome> element) throws Exception {
        super.processElement(element);
        if (finished) {
            return;
        }
        ProductChange change = element.getValue().change();
        if (change.isRemoval()) {
            Long removedAt = removedVersions.value();
            if (removedAt != null && removedAt == change.catalogueVersion()) {
                send(new ProductChange(change.productId(), ProductChange.Kind.REMOVE, null, null, removedAt,
                        change.eventTimestamp(), null));
            }
            return;
        }
        StoredProduct product = products.value();
        if (product != null && product.catalogueVersion() == change.catalogueVersion()) {
            send(upsert(change.productId(), product, change.eventTimestamp()));
        }
    }

    private static ProductChange upsert(String id, StoredProduct product, long at) {
        return new ProductChange(id, ProductChange.Kind.UPSERT, product.imageUrl(), product.category(),
                product.catalogueVersion(), at, null);
    }

    private void send(ProductChange change) {
        output.collect(REEMBED, new StreamRecord<>(change));
        output.collect(PROGRESS, new StreamRecord<>(UpgradeProgress.expected(change.productId(), epoch)));
        sent++;
        reembedded.inc();
    }

    private void scheduleTick() {
        getProcessingTimeService().registerTimer(getProcessingTimeService().getCurrentProcessingTime() + TICK_MS, this::tick);
    }

    private void tick(long time) throws Exception {
        if (keys == null) {
            keyStream = this.<String>getKeyedStateBackend().getKeys(ProductImages.productState().getName(), VoidNamespace.INSTANCE);
            keys = keyStream.iterator();
        }
        int subtasks = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
        double perSubtask = ratePerSecond / subtasks;
        allowance = Math.min(allowance + perSubtask * TICK_MS / 1000.0, Math.max(1, perSubtask));
        while (allowance >= 1 && keys.hasNext()) {
            String id = keys.next();
            setCurrentKey(id);
            StoredProduct product = products.value();
            if (product == null) {
                continue; // removed since the walk began
            }
            send(upsert(id, product, time));
            allowance--;
        }
        if (keys.hasNext()) {
            scheduleTick();
            return;
        }
        closeKeys();
        finished = true;
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        output.collect(PROGRESS, new StreamRecord<>(UpgradeProgress.walkDone(epoch, subtask, subtasks, sent)));
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        walkState.update(List.of(epoch + "," + finished));
    }

    private void closeKeys() {
        if (keyStream != null) {
            keyStream.close();
            keyStream = null;
            keys = null;
        }
    }

    @Override
    public void close() throws Exception {
        closeKeys();
        super.close();
    }
}
