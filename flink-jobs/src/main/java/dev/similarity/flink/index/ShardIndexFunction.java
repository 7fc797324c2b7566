package dev.similarity.flink.index;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.index.ImageMember;
import dev.similarity.index.ImageVector;
import dev.similarity.index.ProductImage;
import dev.similarity.index.ScoredProduct;
import dev.similarity.index.SearchOptions;
import dev.similarity.index.ShardIndex;
import dev.similarity.flink.upgrade.ModelSwitchMarker;
import dev.similarity.index.snapshot.ShardSnapshotWriter;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import java.time.Clock;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keyed by shard number: owns the shards routed to this subtask. A shard's graph nodes are distinct
 * images (see {@link ImageSharers}): an image lives in shard {@code murmur3(imageKey) mod S} with the
 * products that show it as members, so identical vectors never crowd the graph, and everything here
 * (searches, probes, candidates, the lists that may name an image) is about images. Each product also
 * has a document in the shard of its own id (from {@link ProductImages}), where snapshot readers find
 * it. Flink state is the source of truth (each shard's images, members and products, and which images'
 * lists may contain which image);
 * the Lucene HNSW index is derived from it and rebuilt in bulk when a shard is first touched after a
 * (re)start, so a restored or rescaled job searches exactly the checkpointed images.
 *
 * <p>For each new image x this shard searches its own images near x's vector and sends (a) that
 * partial top list to x's list, (b) x as a candidate to the list of each of its own images whose bar x
 * beats ({@link NodeBars}: the images near x, a bar-index search for the images x beats by the widest
 * margin, and an exact check of the images with the lowest bars; the images whose recent searches x beats, on x's
 * owner, from {@link RecentProbes}); when x goes or its representative changes, (c) a drop or a
 * replacement to every image whose list may contain x.
 * Invariant for (c): whenever this shard sends a message that could put c into p's list, it records p
 * under c, in {@code candidatesOf} or {@code listedBy}. An image's vector never changes (same bytes,
 * same vector): a product with a new image leaves one image and joins another.
 *
 * <p>Snapshots: at a checkpoint, each shard changed since its last snapshot and not snapshotted within
 * {@code snapshot.interval} is committed and its new files uploaded in the background; the snapshot is
 * published (manifest written) only when that checkpoint completes, so a search service never sees an
 * index ahead of the lists committed to Kafka.
 */
public final class ShardIndexFunction extends KeyedProcessFunction<Integer, ShardMessage, ListMessage>
        implements CheckpointedFunction, CheckpointListener {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ShardIndexFunction.class);
    private static final long REFRESH_TICK_MS = 500;
    /** Candidates searched per change, as a multiple of the list depth (k + reserve). */
    private static final int CANDIDATE_DEPTH_FACTOR = 2;

    private final IndexerConfig config;
    private final ShardRouting routing;
    private final int dimension;
    private final String modelId;
    /** Where snapshots are published: the snapshot store, or a new model's staging folder during an upgrade. */
    private final String snapshotDir;
    /** During a model upgrade: the new model's staging folder, whose switch marker ends this operator's staging or publishing. */
    private final String switchMarkerDir;
    /** True for the new model (publish where readers look from the switch on), false for the previous one (stop). */
    private final boolean promoteOnSwitch;
    private transient boolean switchSeen;
    private final int listDepth;
    /** Results the bar index is first searched for, per new image and shard (neighbours.reverse-search-depth). */
    private final int reverseSearchDepth;
    /** Most nearest nodes a reverse-update search of one new image looks at per shard. */
    private final int reverseSearchMaxDepth;
    /** Bulk phase settings (index.batch.*), in ms; batching is off when the lag is 0. */
    private final long batchBacklogLagMs;
    private final long batchQuietMs;
    private final long batchMaxDelayMs;
    private final int batchMaxImages;
    private final long batchSliceNanos;

    /** Image key -> the image's node (owner shard). */
    private transient MapState<String, StoredImage> images;
    /**
     * Image key '/' product id -> the product as a member of that image (owner shard of the image): the
     * products behind the nodes. Keyed by both because a product moving between two images of one shard
     * may be put into the new one before it is removed from the old one (they travel different paths).
     */
    private transient MapState<String, ImageMember> members;
    /** Product id -> its image, category and URL (the shard of the product's id): what snapshots find it by. */
    private transient MapState<String, ProductImage> products;
    /**
     * Image c -> images whose lists may contain c because c was in their partial list or beat their
     * recent probe: appended to without reading ({@link ListedBy}, set by the {@link ShardIndexOperator}).
     */
    private transient ListedBy listedBy;
    /**
     * The same records as state written before {@link ListedBy} (a {@link ListerIds} set per image, read
     * and rewritten per lister): no longer written, still read and cleared, so a checkpoint or savepoint
     * of an earlier version restores with every lister.
     */
    private transient MapState<String, byte[]> listedBySets;
    /**
     * Image c -> images this shard sent c to as a candidate (a {@link ListerIds} set). Written once per
     * probe of c without reading (read only when c goes or changes representative), which keeps the most
     * frequent bookkeeping a blind write; together with {@code listedBy} it names every list that may
     * contain c.
     */
    private transient MapState<String, byte[]> candidatesOf;
    private transient ValueState<Long> nextRefresh;
    /** Per shard: the probe window's probes by slot (RecentProbes.Probe encoded), so it survives restores. */
    private transient MapState<Integer, byte[]> probeWindow;
    /** Image key -> the best scores its node is known to have ({@link NodeBars.Node#encode()}; owner shard). */
    private transient MapState<String, byte[]> nodeBars;
    /**
     * Image key -> its IMAGE_ADDED message, collected for the shard's next batch (bulk phase, see
     * {@link #searchBatch}). Invariant: an image is here exactly while its searches on this shard are
     * owed; an owner's node is in {@code images} (state) but not yet in the Lucene index or the bars.
     */
    private transient MapState<String, ShardMessage> batchPending;
    /** The time of the shard's pending batch-check timer, if any. */
    private transient ValueState<Long> batchCheck;
    /** The time of the timer that continues the shard's batch search or the replay of held messages, if any. */
    private transient ValueState<Long> batchContinue;
    /** Set while the shard searches the batch in {@code batch-pending}: a restored shard searches it again. */
    private transient ValueState<Boolean> batchRunning;
    /**
     * Set from the end of a batch search until its images have all left {@code batch-pending} (in slices:
     * millions of deletes): a restored shard clears the rest and never searches them again.
     */
    private transient ValueState<Boolean> batchClearing;
    /**
     * Messages that reached the shard while it searched a batch (or while older ones still waited here), by
     * arrival number: they are handled in that order once the batch ends.
     */
    private transient MapState<Long, ShardMessage> batchHeld;
    /** The arrival number of the next held message. */
    private transient ValueState<Long> batchHeldNext;
    /** The shards this subtask has touched since it started (a concurrent map: metric reporters read it). */
    private transient Map<Integer, OpenShard> shards;
    private transient SnapshotStore snapshotStore;
    /** Runs every shard's snapshot uploads and publications, one at a time. */
    private transient ExecutorService snapshotUploads;
    /** What reverse updates cost so far (read by metrics and benchmarks; written by the operator thread only). */
    private transient volatile ReverseUpdateCounts reverseCounts;

    /**
     * Totals over this subtask's shards: images searched for reverse updates, index searches made for
     * them (the first one is shared with the partial list), candidates sent, and low-bar nodes checked.
     */
    record ReverseUpdateCounts(long images, long searches, long candidates, long lowBarChecks) {
        ReverseUpdateCounts plus(long searches, long candidates, long lowBarChecks) {
            return new ReverseUpdateCounts(images + 1, this.searches + searches, this.candidates + candidates,
                    this.lowBarChecks + lowBarChecks);
        }
    }

    ReverseUpdateCounts reverseUpdateCounts() {
        return reverseCounts;
    }

    /** Batches searched by this subtask, the images in them and the slices they took (read by metrics and tests). */
    record BatchCounts(long batches, long images, long slices) {}

    private transient volatile BatchCounts batchCounts;
    /**
     * The longest a slice of this subtask's latest batch search held the thread, and all slices together
     * (ms; heap only).
     */
    private transient long lastBatchSearchMs;
    private transient long batchSearchMsTotal;

    BatchCounts batchCounts() {
        return batchCounts;
    }

    /**
     * Whether a shard of this subtask is rebuilt from state ({@link RestoreRun}; read by tests).
     */
    boolean rebuilding() {
        for (OpenShard open : shards.values()) {
            if (open.restore != null) return true;
        }
        return false;
    }

    /** The step of each of this subtask's shards' batch search, by shard; none for a shard searching no batch (read by tests). */
    Map<Integer, BatchRun.Step> batchSteps() {
        Map<Integer, BatchRun.Step> steps = new HashMap<>();
        for (OpenShard open : shards.values()) {
            BatchRun run = open.run;
            if (run != null) steps.put(open.number, run.step);
        }
        return steps;
    }

    /** Slices of the rebuilds from state since this subtask opened (read by tests). */
    long rebuildSlices() {
        return rebuildSlices;
    }

    /**
     * Whether a shard of this subtask is rebuilt from state, searches a batch, or has held messages to
     * handle (read by tests; a restored shard's owed batch does not count until its timer starts it).
     */
    boolean batchInProgress() {
        for (OpenShard open : shards.values()) {
            if (open.restore != null || open.run != null || open.heldCount > 0) return true;
        }
        return false;
    }

    public ShardIndexFunction(IndexerConfig config, ShardRouting routing, int dimension, String modelId) {
        this(config, routing, dimension, modelId, config.snapshotDir(), null, false);
    }

    /**
     * During a model upgrade.
     *
     * @param snapshotDir     the snapshot store URI this operator publishes to until the switch
     * @param switchMarkerDir the new model's staging folder, where the switch marker appears ({@link ModelSwitchMarker})
     * @param promoteOnSwitch true for the new model: from the switch on, publish to {@code snapshot.dir}; false for
     *                        the previous model: from the switch on, publish nothing (retention retires its snapshots)
     */
    public ShardIndexFunction(IndexerConfig config, ShardRouting routing, int dimension, String modelId, String snapshotDir,
                              String switchMarkerDir, boolean promoteOnSwitch) {
        this.snapshotDir = snapshotDir;
        this.switchMarkerDir = switchMarkerDir;
        this.promoteOnSwitch = promoteOnSwitch;
        this.config = config;
        this.routing = routing;
        this.dimension = dimension;
        this.modelId = modelId;
        this.listDepth = config.get(IndexerOptions.NEIGHBOURS_K) + config.get(IndexerOptions.NEIGHBOURS_RESERVE);
        this.reverseSearchMaxDepth = Math.max(CANDIDATE_DEPTH_FACTOR, config.get(IndexerOptions.REVERSE_SEARCH_MAX_DEPTH)) * listDepth;
        this.reverseSearchDepth = Math.max(CANDIDATE_DEPTH_FACTOR * listDepth, config.get(IndexerOptions.REVERSE_SEARCH_DEPTH));
        this.batchBacklogLagMs = config.get(IndexerOptions.INDEX_BATCH_BACKLOG_LAG).toMillis();
        this.batchQuietMs = config.get(IndexerOptions.INDEX_BATCH_QUIET).toMillis();
        this.batchMaxDelayMs = config.get(IndexerOptions.INDEX_BATCH_MAX_DELAY).toMillis();
        this.batchMaxImages = config.get(IndexerOptions.INDEX_BATCH_MAX_IMAGES);
        this.batchSliceNanos = config.get(IndexerOptions.INDEX_BATCH_SLICE).toNanos();
    }

    /** Called by the {@link ShardIndexOperator} before {@link #open}. */
    void useListedBy(ListedBy records) {
        this.listedBy = records;
    }

    @Override
    public void open(OpenContext openContext) {
        images = getRuntimeContext().getMapState(new MapStateDescriptor<>("shard-images", Types.STRING,
                TypeInformation.of(StoredImage.class)));
        members = getRuntimeContext().getMapState(new MapStateDescriptor<>("shard-members", Types.STRING,
                TypeInformation.of(ImageMember.class)));
        products = getRuntimeContext().getMapState(new MapStateDescriptor<>("shard-products", Types.STRING,
                TypeInformation.of(ProductImage.class)));
        if (listedBy == null) {
            throw new IllegalStateException("ShardIndexFunction runs in a ShardIndexOperator (its listed-by records are state namespaced by image)");
        }
        listedBySets = getRuntimeContext().getMapState(new MapStateDescriptor<>("listed-by", Types.STRING,
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        candidatesOf = getRuntimeContext().getMapState(new MapStateDescriptor<>("candidates-of", Types.STRING,
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        nextRefresh = getRuntimeContext().getState(new ValueStateDescriptor<>("next-refresh", Long.class));
        probeWindow = getRuntimeContext().getMapState(new MapStateDescriptor<>("probe-window", Types.INT,
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        nodeBars = getRuntimeContext().getMapState(new MapStateDescriptor<>("node-bars", Types.STRING,
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        batchPending = getRuntimeContext().getMapState(new MapStateDescriptor<>("batch-pending", Types.STRING,
                TypeInformation.of(ShardMessage.class)));
        batchCheck = getRuntimeContext().getState(new ValueStateDescriptor<>("batch-check", Long.class));
        batchContinue = getRuntimeContext().getState(new ValueStateDescriptor<>("batch-continue", Long.class));
        batchRunning = getRuntimeContext().getState(new ValueStateDescriptor<>("batch-running", Boolean.class));
        batchClearing = getRuntimeContext().getState(new ValueStateDescriptor<>("batch-clearing", Boolean.class));
        batchHeld = getRuntimeContext().getMapState(new MapStateDescriptor<>("batch-held", Types.LONG,
                TypeInformation.of(ShardMessage.class)));
        batchHeldNext = getRuntimeContext().getState(new ValueStateDescriptor<>("batch-held-next", Long.class));
        shards = new ConcurrentHashMap<>();
        getRuntimeContext().getMetricGroup().gauge("batchPendingImages", (Gauge<Integer>) () -> {
            int total = 0;
            for (OpenShard open : shards.values()) total += open.pendingCount;
            return total;
        });
        getRuntimeContext().getMetricGroup().gauge("batchHeldMessages", (Gauge<Integer>) () -> {
            int total = 0;
            for (OpenShard open : shards.values()) total += open.heldCount;
            return total;
        });
        getRuntimeContext().getMetricGroup().gauge("batchesSearched", (Gauge<Long>) () -> batchCounts.batches());
        getRuntimeContext().getMetricGroup().gauge("batchImagesSearched", (Gauge<Long>) () -> batchCounts.images());
        batchCounts = new BatchCounts(0, 0, 0);
        getRuntimeContext().getMetricGroup().gauge("imagesInShards", (Gauge<Integer>) () -> {
            int total = 0;
            for (OpenShard open : shards.values()) total += open.index.size();
            return total;
        });
        getRuntimeContext().getMetricGroup().gauge("productsInShards", (Gauge<Integer>) () -> {
            int total = 0;
            for (OpenShard open : shards.values()) total += open.productCount;
            return total;
        });
        getRuntimeContext().getMetricGroup().gauge("shardsOpen", (Gauge<Integer>) () -> shards.size());
        reverseCounts = new ReverseUpdateCounts(0, 0, 0, 0);
        getRuntimeContext().getMetricGroup().gauge("reverseImages", (Gauge<Long>) () -> reverseCounts.images());
        getRuntimeContext().getMetricGroup().gauge("reverseSearches", (Gauge<Long>) () -> reverseCounts.searches());
        getRuntimeContext().getMetricGroup().gauge("reverseCandidates", (Gauge<Long>) () -> reverseCounts.candidates());
        getRuntimeContext().getMetricGroup().gauge("lowBarChecks", (Gauge<Long>) () -> reverseCounts.lowBarChecks());
        getRuntimeContext().getMetricGroup().gauge("lowBarNodes", (Gauge<Integer>) () -> {
            int total = 0;
            for (OpenShard open : shards.values()) total += open.bars.lowBarCount();
            return total;
        });
        snapshotStore = SnapshotStore.at(snapshotDir);
        snapshotUploads = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "snapshot-uploads-" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
            thread.setDaemon(true);
            return thread;
        });
        getRuntimeContext().getMetricGroup().gauge("snapshotFailures", (Gauge<Long>) () -> {
            long failures = 0;
            for (OpenShard open : shards.values()) failures += open.snapshots.failures();
            return failures;
        });
    }

    @Override
    public void initializeState(FunctionInitializationContext context) {
        // All state is keyed (declared in open); snapshots hook into checkpoints only.
    }

    /** Captures a snapshot of every changed shard whose last capture is at least snapshot.interval old. */
    @Override
    public void snapshotState(FunctionSnapshotContext context) {
        if (switchSeen && !promoteOnSwitch) {
            return; // the previous model after an upgrade's switch: its snapshots are retired
        }
        long now = System.currentTimeMillis();
        long interval = config.get(IndexerOptions.SNAPSHOT_INTERVAL).toMillis();
        for (OpenShard open : shards.values()) {
            // A shard with a batch pending holds nodes its Lucene index lacks: it is captured after the batch.
            if (open.changed && open.pendingCount == 0 && open.restore == null && now - open.lastCaptureMillis >= interval) {
                // Refresh first: the commit then flushes no segment of its own (segment count is what
                // makes searches slow), and searches move to the same segments.
                open.index.refresh();
                open.snapshots.capture(open.index, context.getCheckpointId());
                open.lastCaptureMillis = now;
                open.changed = false;
            }
        }
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        if (switchSeen && !promoteOnSwitch) {
            return;
        }
        for (OpenShard open : shards.values()) {
            open.snapshots.publish(checkpointId);
        }
        if (!switchSeen && switchMarkerDir != null && ModelSwitchMarker.exists(switchMarkerDir)) {
            // The upgrade switched: the new model's shards are snapshotted whole where readers look,
            // from the next checkpoint on; the previous model's publish nothing more.
            switchSeen = true;
            if (promoteOnSwitch) {
                snapshotStore = SnapshotStore.at(config.snapshotDir());
                for (Map.Entry<Integer, OpenShard> open : shards.entrySet()) {
                    open.getValue().snapshots = snapshotWriter(open.getKey());
                    open.getValue().changed = true;
                    open.getValue().lastCaptureMillis = Long.MIN_VALUE / 2;
                }
            }
        }
    }

    private ShardSnapshotWriter snapshotWriter(int shard) {
        return new ShardSnapshotWriter(snapshotStore, shard, routing.shardCount(), modelId,
                dimension, new RetentionPolicy(config.get(IndexerOptions.SNAPSHOT_RETAIN),
                        config.get(IndexerOptions.SNAPSHOT_RETAIN_MIN_AGE)), snapshotUploads, Clock.systemUTC());
    }

    @Override
    public void processElement(ShardMessage message, Context ctx, Collector<ListMessage> out) throws Exception {
        OpenShard shard = open(message.shard(), ctx);
        if (shard.restore != null || shard.run != null || shard.runOwed || shard.heldCount > 0) {
            hold(shard, message);
            return;
        }
        handle(shard, message, ctx, out);
    }

    /** Handles a message in its turn: none is held before it, and the shard searches no batch. */
    private void handle(OpenShard shard, ShardMessage message, Context ctx, Collector<ListMessage> out) throws Exception {
        String x = message.imageKey();
        long at = message.eventTimestamp();
        switch (message.type()) {
            case MEMBER_PUT -> putMember(shard, message.member());
            case MEMBER_REMOVED -> removeMember(shard, message.member());
            case PRODUCT_PUT -> {
                String id = message.member().productId();
                if (!products.contains(id)) {
                    shard.productCount++;
                }
                ProductImage product = new ProductImage(id, x, message.vector(), message.member().category(),
                        message.member().imageUrl());
                products.put(id, product);
                shard.index.putProduct(product);
                shard.changed = true;
            }
            case PRODUCT_REMOVED -> {
                String id = message.member().productId();
                if (products.contains(id)) {
                    products.remove(id);
                    shard.index.removeProduct(id);
                    shard.productCount--;
                    shard.changed = true;
                }
            }
            case IMAGE_REMOVED -> {
                if (shard.pendingCount > 0 && batchPending.contains(x)) {
                    batchPending.remove(x); // never searched here: no list was told of it by this shard
                    shard.pendingCount--;
                }
                if (message.isOwner()) {
                    images.remove(x);
                    shard.index.delete(x);
                    shard.changed = true;
                    shard.generations.remove(x);
                    shard.representatives.remove(x);
                    shard.bars.remove(x);
                    nodeBars.remove(x);
                    removeMember(shard, message.member());
                }
                long gone = NodeBars.imageId(x);
                for (String lister : listers(x)) {
                    out.collect(ListMessage.drop(lister, x, at));
                    // x's score leaves the bar of each own node that knew it: the bar falls back, so
                    // images between the list's new tail and the old bar reach the list again.
                    NodeBars.Node lowered = shard.bars.forget(lister, gone);
                    if (lowered != null) {
                        nodeBars.put(lister, lowered.encode());
                    }
                }
                listedBy.clear(x);
                listedBySets.remove(x);
                candidatesOf.remove(x);
            }
            case REPRESENTATIVE_CHANGED -> {
                if (shard.pendingCount > 0) {
                    ShardMessage pending = batchPending.get(x);
                    if (pending != null) {
                        batchPending.put(x, withRepresentative(pending, message.representative()));
                    }
                }
                if (message.isOwner()) {
                    StoredImage stored = images.get(x);
                    images.put(x, new StoredImage(stored.generation(), stored.vector(), message.representative()));
                    shard.representatives.put(x, message.representative());
                    removeMember(shard, message.member());
                }
                for (String lister : listers(x)) {
                    out.collect(ListMessage.replace(lister, x, message.representative(), at));
                }
            }
            case IMAGE_ADDED -> {
                long now = ctx.timerService().currentProcessingTime();
                boolean behind = batchBacklogLagMs > 0 && now - message.eventTimestamp() >= batchBacklogLagMs;
                if (shard.pendingCount == 0 && !behind) {
                    imageAdded(shard, message, out);
                } else {
                    collect(shard, message, now);
                    if (!behind || shard.pendingCount >= batchMaxImages || now - shard.firstPendingAt >= batchMaxDelayMs) {
                        startBatch(shard, ctx, out, !behind ? "caught up" : shard.pendingCount >= batchMaxImages ? "full" : "max delay");
                    } else if (batchCheck.value() == null) {
                        scheduleBatchCheck(ctx, now + batchQuietMs);
                    }
                }
            }
        }
    }

    private static ShardMessage withRepresentative(ShardMessage m, String representative) {
        return new ShardMessage(m.routingKey(), m.shard(), m.shardCount(), m.ownerShard(), m.type(), m.imageKey(),
                m.generation(), m.vector(), representative, m.member(), m.eventTimestamp());
    }

    /**
     * Bulk phase: stores a new image as streaming does (an owner's node and member in state) but owes its
     * searches to the shard's next batch.
     */
    private void collect(OpenShard shard, ShardMessage message, long now) throws Exception {
        String x = message.imageKey();
        if (message.isOwner()) {
            storeNode(shard, message);
        }
        if (!batchPending.contains(x)) {
            shard.pendingCount++;
        }
        batchPending.put(x, message);
        if (shard.pendingCount == 1) {
            shard.firstPendingAt = now;
        }
        shard.lastPendingArrival = now;
        shard.batchSearchMsAtLastArrival = batchSearchMsTotal;
    }

    /** A message that arrived while the shard searches a batch, or while older ones still wait: handled after them. */
    private void hold(OpenShard shard, ShardMessage message) throws Exception {
        Long next = batchHeldNext.value();
        long number = next == null ? 0 : next;
        batchHeld.put(number, message);
        batchHeldNext.update(number + 1);
        shard.heldCount++;
    }

    /**
     * Handles held messages in arrival order until none is left, a batch search starts (the rest wait for
     * it), or the slice is used up (a timer continues).
     */
    private void replayHeld(OpenShard shard, Context ctx, Collector<ListMessage> out) throws Exception {
        if (shard.heldCount == 0 || shard.replaying) {
            return; // a batch that starts and ends within a replayed message leaves the rest to the replay
        }
        shard.replaying = true;
        long deadline = System.nanoTime() + batchSliceNanos;
        try {
            List<Long> numbers = new ArrayList<>(shard.heldCount);
            for (Long number : batchHeld.keys()) numbers.add(number);
            numbers.sort(null);
            for (Long number : numbers) {
                if (shard.run != null) {
                    return; // the rest follow that batch
                }
                if (System.nanoTime() >= deadline) {
                    scheduleBatchContinue(ctx);
                    return;
                }
                ShardMessage message = batchHeld.get(number);
                batchHeld.remove(number);
                shard.heldCount--;
                handle(shard, message, ctx, out);
            }
            batchHeldNext.clear();
        } finally {
            shard.replaying = false;
        }
    }

    private void scheduleBatchContinue(Context ctx) throws Exception {
        // After now: a timer at the firing one's own time would run in the same mail, with no barrier between.
        long at = ctx.timerService().currentProcessingTime() + 1;
        batchContinue.update(at);
        ctx.timerService().registerProcessingTimeTimer(at);
    }

    /**
     * Starts searching the batch in {@code batch-pending}, leaving state as if its images had been streamed
     * one by one: the owners' nodes go into the graph in one bulk build; every image's partial list is
     * searched against the shard with the whole batch in it; the owners' bars start from those lists; then
     * each image gets the reverse updates a streamed image gets (the recent probes from before the batch,
     * and every node whose bar it beats, the batch's own included, so two images of the batch on different
     * shards find each other as they would streamed). A node already knowing an image's score is not
     * offered it twice ({@link NodeBars#offer}). The first slice runs now; timers run the rest
     * ({@link BatchRun}: nothing is sent or written until the last step).
     */
    private void startBatch(OpenShard shard, Context ctx, Collector<ListMessage> out, String trigger) throws Exception {
        long started = System.nanoTime();
        List<ShardMessage> batch = new ArrayList<>(shard.pendingCount);
        for (ShardMessage m : batchPending.values()) {
            batch.add(m);
        }
        if (batch.isEmpty()) {
            shard.pendingCount = 0;
            shard.runOwed = false;
            batchRunning.clear();
            replayHeld(shard, ctx, out);
            return;
        }
        // Arrival order, as far as event times tell it: the probe window keeps the latest.
        batch.sort(Comparator.comparingLong(ShardMessage::eventTimestamp));
        List<ImageVector> owned = new ArrayList<>();
        for (ShardMessage m : batch) {
            if (m.isOwner()) owned.add(new ImageVector(m.imageKey(), m.vector()));
        }
        shard.run = new BatchRun(batch, owned, CANDIDATE_DEPTH_FACTOR * listDepth, trigger, reverseCounts);
        shard.runOwed = false;
        shard.run.stepNanos[BatchRun.Step.BUILD.ordinal()] += System.nanoTime() - started;
        batchRunning.update(true);
        runSlice(shard, ctx, out, started);
    }

    /** Searches the shard's batch until it ends or the slice is used up, then schedules the next slice. */
    private void runSlice(OpenShard shard, Context ctx, Collector<ListMessage> out, long sliceStarted) throws Exception {
        BatchRun run = shard.run;
        long deadline = sliceStarted + batchSliceNanos;
        run.slices++;
        boolean ended = false;
        while (true) {
            long stepStarted = System.nanoTime();
            boolean stepDone = switch (run.step) {
                case BUILD -> buildPart(shard, run, deadline);
                case PROBES -> probesPart(shard, run, deadline);
                case PARTIAL_LISTS -> partialListsPart(shard, run, deadline);
                case LISTERS -> listersPart(run, deadline);
                case OWN_REVERSE -> reversePart(shard, run, deadline, true, out);
                case BARS -> barsPart(shard, run, deadline);
                case OTHER_REVERSE -> reversePart(shard, run, deadline, false, out);
                case CANDIDATE_LISTERS -> candidateListersPart(run, deadline);
                case SEND_CANDIDATES -> candidatesPart(shard, run, deadline, out);
                case OWN_BARS -> ownBarsPart(shard, run, deadline);
                case PROBE_LISTERS -> probeListersPart(run, deadline);
                case PROBE_CANDIDATES -> probeCandidatesPart(run, deadline, out);
                case WINDOW -> windowPart(shard, run, deadline);
                case FINISH -> finishPart();
                case CLEAR -> clearPart(shard, run, deadline);
            };
            run.stepNanos[run.step.ordinal()] += System.nanoTime() - stepStarted;
            if (!stepDone) {
                break;
            }
            if (run.step == BatchRun.Step.CLEAR) {
                ended = true;
                break;
            }
            run.advance();
            if (run.step == BatchRun.Step.CLEAR) {
                break; // the clear starts in a slice of its own, after a moment where the end may be checkpointed
            }
        }
        long slice = System.nanoTime() - sliceStarted;
        run.longestSliceNanos = Math.max(run.longestSliceNanos, slice);
        batchSearchMsTotal += BatchRun.millis(slice);
        if (ended) {
            endBatch(shard, run);
            lastBatchSearchMs = BatchRun.millis(run.longestSliceNanos);
            replayHeld(shard, ctx, out);
        } else {
            scheduleBatchContinue(ctx);
        }
    }

    private static final int BUILD_PART = 1_000;
    /** Images collected per second of silence a batch waits for beyond index.batch.quiet (see onTimer). */
    private static final int QUIET_IMAGES_PER_SECOND = 30_000;

    /** Step 1, a part of it: the owner's new nodes into the graph; searchable once all are in. */
    private boolean buildPart(OpenShard shard, BatchRun run, long deadline) {
        int size = run.owned.size();
        while (run.next < size) {
            int to = Math.min(size, run.next + BUILD_PART);
            shard.index.bulkAddImages(run.owned.subList(run.next, to));
            run.next = to;
            if (System.nanoTime() >= deadline) return false;
        }
        if (size > 0) {
            shard.index.endBulkLoad();
            shard.changed = true;
        }
        return true;
    }

    /** Step 2, a part of it: the owner's new images as candidates to the searches made before the batch. */
    private boolean probesPart(OpenShard shard, BatchRun run, long deadline) {
        while (run.next < run.size()) {
            ShardMessage m = run.batch.get(run.next++);
            if (m.isOwner()) {
                List<String> probers = beatenProbes(shard, m, run.probeCandidates::add);
                if (!probers.isEmpty()) run.probeListers.put(m.imageKey(), probers);
            }
            if (System.nanoTime() >= deadline) return run.next == run.size();
        }
        return true;
    }

    /** Step 3, a part of it: each image's partial list against the shard with the whole batch in it. */
    private boolean partialListsPart(OpenShard shard, BatchRun run, long deadline) {
        int searchDepth = CANDIDATE_DEPTH_FACTOR * listDepth;
        while (run.next < run.size()) {
            int b = run.next++;
            String x = run.batch.get(b).imageKey();
            List<ScoredProduct> found = shard.index.search(run.batch.get(b).vector(), searchDepth, SearchOptions.NONE.exclude(x));
            run.setNear(b, found);
            for (int i = 0, size = Math.min(listDepth, found.size()); i < size; i++) {
                run.newListers.computeIfAbsent(found.get(i).productId(), id -> new ArrayList<>()).add(x);
            }
            if (System.nanoTime() >= deadline) return run.next == run.size();
        }
        return true;
    }

    /** Step 3's end, a part of it: each image named by a partial list records the image as its lister. */
    private boolean listersPart(BatchRun run, long deadline) throws Exception {
        if (run.listersToWrite == null) {
            run.listersToWrite = new ArrayList<>(run.newListers.entrySet());
        }
        if (!addListersPart(run, run.listersToWrite, deadline)) return false;
        run.newListers.clear();
        run.listersToWrite = null;
        return true;
    }

    /** Records each image's new listers ({@code listers}, from {@code run.next} on) until the deadline; true once all are in. */
    private boolean addListersPart(BatchRun run, List<Map.Entry<String, List<String>>> listers, long deadline) throws Exception {
        while (run.next < listers.size()) {
            Map.Entry<String, List<String>> e = listers.get(run.next++);
            addListers(e.getKey(), e.getValue());
            if (System.nanoTime() >= deadline) return run.next == listers.size();
        }
        return true;
    }

    /**
     * Steps 4 and 6, a part of them: reverse updates of the owner's own new images against the nodes stored
     * before the batch (the batch's nodes were searched with them in the index, so their partial lists
     * already hold them), or of the other shards' new images against every node here, the batch's
     * included (another shard may have searched its batch before one of them arrived there, so this is
     * where they meet).
     */
    private boolean reversePart(OpenShard shard, BatchRun run, long deadline, boolean own, Collector<ListMessage> out)
            throws Exception {
        while (run.next < run.size()) {
            int b = run.next++;
            ShardMessage m = run.batch.get(b);
            if (m.isOwner() == own) {
                List<ScoredProduct> found = run.near(b);
                reverseUpdates(shard, m, found, run.candidates, null);
                // Sent while the search goes on, so the lists work meanwhile; its listers are in state (step 3's end).
                out.collect(partialList(shard, m, found));
            }
            if (System.nanoTime() >= deadline) return run.next == run.size();
        }
        return true;
    }

    /** Step 5, a part of it: the owner's new nodes get their bars (heap only until the batch ends). */
    private boolean barsPart(OpenShard shard, BatchRun run, long deadline) {
        while (run.next < run.size()) {
            int b = run.next++;
            ShardMessage m = run.batch.get(b);
            if (m.isOwner()) {
                barFromPartialList(shard, m, run.near(b));
                if (shard.bars.lowBarsDue()) {
                    shard.bars.rebuildLowBars(this::storedVector);
                }
            }
            if (System.nanoTime() >= deadline) return run.next == run.size();
        }
        return true;
    }

    /**
     * Step 7, a part of it: each candidate image's lists into {@code candidates-of}, image by image (one
     * read and write per image for the whole batch), before any candidate is sent. Only the candidates
     * their node still knows are sent ({@link #sendBatchCandidates}); nothing changes a node's known scores
     * during step 7, so these are exactly the lists the images will be sent to.
     */
    private boolean candidateListersPart(BatchRun run, long deadline) throws Exception {
        if (run.candidatesToSend == null) {
            run.candidatesToSend = new ArrayList<>(run.candidates.byNode.entrySet());
            run.candidates.byNode.clear();
            Map<String, List<String>> listers = new HashMap<>();
            for (Map.Entry<NodeBars.Node, List<BatchRun.Candidate>> e : run.candidatesToSend) {
                NodeBars.Node node = e.getKey();
                for (BatchRun.Candidate c : e.getValue()) {
                    if (node.knows(NodeBars.imageId(c.imageKey()))) {
                        listers.computeIfAbsent(c.imageKey(), key -> new ArrayList<>()).add(node.imageKey);
                    }
                }
            }
            run.candidateListers = new ArrayList<>(listers.entrySet());
        }
        while (run.next < run.candidateListers.size()) {
            Map.Entry<String, List<String>> e = run.candidateListers.get(run.next);
            run.candidateListers.set(run.next++, null); // written: let it go
            candidatesOf.put(e.getKey(), ListerIds.withAll(candidatesOf.get(e.getKey()), e.getValue()));
            if (System.nanoTime() >= deadline) break;
        }
        if (run.next < run.candidateListers.size()) return false;
        run.candidateListers = null;
        return true;
    }

    /**
     * Step 7, a part of it: the reverse updates' candidates, node by node (see {@link #sendBatchCandidates});
     * their images' listers are in state already ({@link #candidateListersPart}).
     */
    private boolean candidatesPart(OpenShard shard, BatchRun run, long deadline, Collector<ListMessage> out) throws Exception {
        while (run.next < run.candidatesToSend.size()) {
            Map.Entry<NodeBars.Node, List<BatchRun.Candidate>> e = run.candidatesToSend.get(run.next);
            run.candidatesToSend.set(run.next++, null); // sent: let it go
            run.candidatesSent += sendBatchCandidates(shard, e.getKey(), e.getValue(), out);
            if (System.nanoTime() >= deadline) return run.next == run.candidatesToSend.size();
        }
        return true;
    }

    /** Step 7, a part of it: the owner's new nodes that took no candidate get their bars into state. */
    private boolean ownBarsPart(OpenShard shard, BatchRun run, long deadline) throws Exception {
        while (run.next < run.size()) {
            ShardMessage m = run.batch.get(run.next++);
            if (m.isOwner()) {
                NodeBars.Node node = shard.bars.node(m.imageKey());
                if (node != null) {
                    // A node that took candidates was written with them (sendBatchCandidates).
                    if (!node.barsWritten) nodeBars.put(m.imageKey(), node.encode());
                    node.barsWritten = false;
                }
            }
            if (System.nanoTime() >= deadline) return run.next == run.size();
        }
        return true;
    }

    /**
     * Step 8, a part of it: each image step 2 found for recent probes records them as its listers (one
     * state read and write per image: at 10^6 a batch's own images number hundreds of thousands, which in
     * one slice held a checkpoint for 40-70 s).
     */
    private boolean probeListersPart(BatchRun run, long deadline) throws Exception {
        if (run.probeListersToWrite == null) run.probeListersToWrite = new ArrayList<>(run.probeListers.entrySet());
        if (!addListersPart(run, run.probeListersToWrite, deadline)) return false;
        run.probeListers.clear();
        run.probeListersToWrite = null;
        return true;
    }

    /** Step 8, a part of it: the probes' candidates step 2 found, their listers already in state. */
    private boolean probeCandidatesPart(BatchRun run, long deadline, Collector<ListMessage> out) {
        while (run.next < run.probeCandidates.size()) {
            out.collect(run.probeCandidates.get(run.next++));
            if (run.next % 256 == 0 && System.nanoTime() >= deadline) return run.next == run.probeCandidates.size();
        }
        return true;
    }

    /** Step 8, a part of it: the batch's latest searches join the probe window (older ones would be evicted at once). */
    private boolean windowPart(OpenShard shard, BatchRun run, long deadline) throws Exception {
        int first = Math.max(0, run.size() - shard.probes.capacity());
        while (first + run.next < run.size()) {
            int b = first + run.next++;
            rememberProbe(shard, run.batch.get(b), run.near(b));
            if (System.nanoTime() >= deadline) return first + run.next == run.size();
        }
        return true;
    }

    /** Step 8's end, in one slice: the batch has ended (its images are cleared from {@code batch-pending} next). */
    private boolean finishPart() throws Exception {
        // From here a restored shard clears the batch's images from batch-pending instead of searching them.
        batchRunning.clear();
        batchClearing.update(true);
        return true;
    }

    /** Batch images removed from {@code batch-pending} between two looks at the clock. */
    private static final int CLEAR_PART = 256;

    /** Step 8, a part of it: the ended batch's images leave {@code batch-pending}; then {@code batch-clearing} goes. */
    private boolean clearPart(OpenShard shard, BatchRun run, long deadline) throws Exception {
        while (run.next < run.size()) {
            int to = Math.min(run.size(), run.next + CLEAR_PART);
            for (ShardMessage m : run.batch.subList(run.next, to)) batchPending.remove(m.imageKey());
            shard.pendingCount -= to - run.next;
            run.next = to;
            if (System.nanoTime() >= deadline) break;
        }
        if (run.next < run.size()) return false;
        batchClearing.clear();
        return true;
    }

    /** The shard's batch has ended and left {@code batch-pending}: counted and logged. */
    private void endBatch(OpenShard shard, BatchRun run) {
        shard.pendingCount = 0;
        shard.run = null;
        long finished = System.nanoTime();
        int n = run.size();
        int sent = run.candidatesSent;
        batchCounts = new BatchCounts(batchCounts.batches() + 1, batchCounts.images() + n, batchCounts.slices() + run.slices);
        long found = reverseCounts.candidates() - run.countsBefore.candidates();
        long[] ms = new long[run.stepNanos.length];
        for (int i = 0; i < ms.length; i++) ms[i] = BatchRun.millis(run.stepNanos[i]);
        LOG.info("shard {}: searched a batch of {} new images ({} of them its own) in {} ms of work over {} ms in {} slices, "
                        + "the longest {} ms (graph build {}, probe window {}, partial lists {}, their listers {}, own reverse updates {}, "
                        + "bars {}, other shards' reverse updates {}, candidates' listers {}, sends {}, own bars {}, probes' listers {}, "
                        + "probes' candidates {}, searches into the window {}, end {}, pending cleared {}; {} candidates found, {} sent); batch ended by: {}",
                shard.number, n, run.owned.size(), BatchRun.millis(Arrays.stream(run.stepNanos).sum()),
                BatchRun.millis(finished - run.startedNanos), run.slices, BatchRun.millis(run.longestSliceNanos),
                ms[0], ms[1], ms[2], ms[3], ms[4], ms[5], ms[6], ms[7], ms[8], ms[9], ms[10], ms[11], ms[12], ms[13], ms[14], found, sent,
                run.trigger);
    }

    /**
     * A new image's reverse updates on this shard: x goes to the list of each of this shard's nodes p whose
     * bar it beats ({@code found}: the shard's nodes nearest to x, best first). Nearest neighbours are not
     * symmetric, so besides the nodes near x, the bar index finds the nodes x beats by the widest margin
     * wherever they lie, and the nodes with the lowest bars are each checked exactly. Never x's own node.
     * Streamed ({@code batchCandidates} null), each candidate is sent at once with its node's state;
     * in a batch, it is kept for {@link #sendBatchCandidates}.
     *
     * @return the nodes x was a candidate to
     */
    private Set<String> reverseUpdates(OpenShard shard, ShardMessage m, List<ScoredProduct> found,
                                       BatchRun.Candidates batchCandidates, Collector<ListMessage> out) throws Exception {
        NodeBars bars = shard.bars;
        String x = m.imageKey();
        String representative = representativeOf(shard, m);
        long at = m.eventTimestamp();
        Set<String> candidatesSent = new HashSet<>();
        NodeBars.BeatenConsumer send = batchCandidates != null
                ? (node, score) -> {
                    batchCandidates.add(node, new BatchRun.Candidate(x, representative, score, at));
                    candidatesSent.add(node.imageKey);
                }
                : (node, score) -> {
                    out.collect(ListMessage.candidate(node.imageKey, shard.generations.getOrDefault(node.imageKey, -1L), x,
                            representative, score, at));
                    nodeBars.put(node.imageKey, node.encode());
                    candidatesSent.add(node.imageKey);
                };
        NodeBars.Visit visit = bars.newVisit();
        NodeBars.Node own = bars.node(x);
        if (own != null) visit.add(own); // never offered to its own node
        long xId = NodeBars.imageId(x);
        for (ScoredProduct p : found) {
            NodeBars.Node node = bars.node(p.productId());
            if (node != null && visit.add(node) && bars.offer(node, p.score(), xId)) {
                send.accept(node, p.score());
            }
        }
        int searches = 1 + bars.forEachBarBeaten(m.vector(), xId, visit, reverseSearchDepth, reverseSearchMaxDepth, send);
        int lowBarChecks = bars.lowBarCount();
        bars.forEachLowBarBeaten(m.vector(), xId, visit, send);
        reverseCounts = reverseCounts.plus(searches, candidatesSent.size(), lowBarChecks);
        if (bars.lowBarsDue()) {
            bars.rebuildLowBars(this::storedVector);
        }
        return candidatesSent;
    }

    /** The new image's partial list on this shard: the first k + reserve of {@code found} (best first). */
    private ListMessage partialList(OpenShard shard, ShardMessage m, List<ScoredProduct> found) {
        int partialSize = Math.min(listDepth, found.size());
        String[] ids = new String[partialSize];
        String[] representatives = new String[partialSize];
        float[] scores = new float[partialSize];
        for (int i = 0; i < partialSize; i++) {
            ids[i] = found.get(i).productId();
            representatives[i] = shard.representatives.get(ids[i]);
            scores[i] = found.get(i).score();
        }
        return ListMessage.partial(m.imageKey(), m.generation(), m.shardCount(), shard.number, ids, representatives, scores,
                m.eventTimestamp());
    }

    /**
     * Sends one node's candidates, in one message, once the batch's reverse updates are done, its state
     * written once. A candidate is sent only while its node still knows its score: one it no longer knows
     * was pushed out of the node's best known scores by k + reserve live images, every one of which its list is told of
     * (the node's partial list, or candidates sent), so it could not enter the list (streamed, the list
     * would receive it and drop it). The images' listers are in state already ({@link #candidateListersPart}).
     *
     * @return the candidates sent
     */
    private int sendBatchCandidates(OpenShard shard, NodeBars.Node node, List<BatchRun.Candidate> candidates,
                                    Collector<ListMessage> out) throws Exception {
        int sent = 0;
        long generation = shard.generations.getOrDefault(node.imageKey, -1L);
        String[] ids = new String[candidates.size()];
        String[] representatives = new String[ids.length];
        float[] scores = new float[ids.length];
        long newestEvent = Long.MIN_VALUE;
        for (BatchRun.Candidate c : candidates) {
            if (!node.knows(NodeBars.imageId(c.imageKey()))) continue;
            ids[sent] = c.imageKey();
            representatives[sent] = c.representative();
            scores[sent] = c.score();
            newestEvent = Math.max(newestEvent, c.eventTimestamp());
            sent++;
        }
        if (sent > 0) { // one message per list: the list reads and writes its state once for all of them
            out.collect(ListMessage.candidates(node.imageKey, generation, Arrays.copyOf(ids, sent),
                    Arrays.copyOf(representatives, sent), Arrays.copyOf(scores, sent), newestEvent));
        }
        nodeBars.put(node.imageKey, node.encode());
        node.barsWritten = true;
        return sent;
    }

    /** The image's representative now: the owner's record, else the latest the batch was told. */
    private static String representativeOf(OpenShard shard, ShardMessage m) {
        String current = m.isOwner() ? shard.representatives.get(m.imageKey()) : null;
        return current != null ? current : m.representative();
    }

    private void scheduleBatchCheck(Context ctx, long at) throws Exception {
        batchCheck.update(at);
        ctx.timerService().registerProcessingTimeTimer(at);
    }

    private void imageAdded(OpenShard shard, ShardMessage message, Collector<ListMessage> out) throws Exception {
        String x = message.imageKey();
        if (message.isOwner()) {
            storeNode(shard, message);
            shard.index.upsertImage(x, message.vector());
            offerToRecentProbes(shard, message, out);
        }
        List<ScoredProduct> near = shard.index.search(message.vector(), CANDIDATE_DEPTH_FACTOR * listDepth,
                SearchOptions.NONE.exclude(x));
        for (int i = 0, size = Math.min(listDepth, near.size()); i < size; i++) {
            addListers(near.get(i).productId(), List.of(x));
        }
        rememberProbe(shard, message, near);
        Set<String> candidatesSent = reverseUpdates(shard, message, near, null, out);
        out.collect(partialList(shard, message, near));
        if (!candidatesSent.isEmpty()) {
            candidatesOf.put(x, ListerIds.withAll(null, candidatesSent));
        }
        if (message.isOwner()) {
            // x's own bar starts from its partial list here; images x takes later raise it.
            addBar(shard, message, near);
        }
    }

    /** An owner's new image node into state and the shard's heap maps (not the Lucene index). */
    private void storeNode(OpenShard shard, ShardMessage message) throws Exception {
        String x = message.imageKey();
        images.put(x, new StoredImage(message.generation(), message.vector(), message.representative()));
        putMember(shard, message.member());
        shard.changed = true;
        shard.generations.put(x, message.generation());
        shard.representatives.put(x, message.representative());
    }

    /** An owner's new image as a candidate to each recent probe whose bar it beats (the probe window). */
    private void offerToRecentProbes(OpenShard shard, ShardMessage m, Collector<ListMessage> out) throws Exception {
        addListers(m.imageKey(), beatenProbes(shard, m, out::collect));
    }

    /** Gives {@code send} image m as a candidate to each remembered search it beats; returns those searches' images. */
    private static List<String> beatenProbes(OpenShard shard, ShardMessage m, Consumer<ListMessage> send) {
        String x = m.imageKey();
        String representative = representativeOf(shard, m);
        List<String> probers = new ArrayList<>();
        shard.probes.forEachBeaten(x, m.vector(), (prober, proberGeneration, score) -> {
            send.accept(ListMessage.candidate(prober, proberGeneration, x, representative, score, m.eventTimestamp()));
            probers.add(prober);
        });
        return probers;
    }

    /** The image's search ({@code found}, best first) joins the probe window, in state too so it survives a restore. */
    private void rememberProbe(OpenShard shard, ShardMessage m, List<ScoredProduct> found) throws Exception {
        RecentProbes.Probe probe = shard.probes.add(m.imageKey(), m.generation(), m.vector(), partialScores(found));
        probeWindow.put(shard.probes.slotOf(probe.sequence()), probe.encode());
    }

    /** An owner's node gets its bar from its partial list on this shard ({@code found}, best first). */
    private void addBar(OpenShard shard, ShardMessage m, List<ScoredProduct> found) throws Exception {
        nodeBars.put(m.imageKey(), barFromPartialList(shard, m, found).encode());
        if (shard.bars.lowBarsDue()) {
            shard.bars.rebuildLowBars(this::storedVector);
        }
    }

    /** The owner's node m gets its bar, on the heap, from its partial list on this shard ({@code found}, best first). */
    private NodeBars.Node barFromPartialList(OpenShard shard, ShardMessage m, List<ScoredProduct> found) {
        float[] scores = partialScores(found);
        long[] known = new long[scores.length];
        for (int i = 0; i < known.length; i++) known[i] = NodeBars.imageId(found.get(i).productId());
        return shard.bars.add(m.imageKey(), scores, known, m.vector());
    }

    /** The scores of the partial list (the first k + reserve of {@code found}). */
    private float[] partialScores(List<ScoredProduct> found) {
        float[] scores = new float[Math.min(listDepth, found.size())];
        for (int i = 0; i < scores.length; i++) scores[i] = found.get(i).score();
        return scores;
    }

    private float[] storedVector(String imageKey) {
        try {
            return images.get(imageKey).vector();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the vector of image " + imageKey + " from shard state", e);
        }
    }

    private void putMember(OpenShard shard, ImageMember member) throws Exception {
        members.put(memberKey(member), member);
        shard.index.putMember(member);
        shard.changed = true;
    }

    private void removeMember(OpenShard shard, ImageMember member) throws Exception {
        String key = memberKey(member);
        if (members.contains(key)) {
            members.remove(key);
            shard.index.removeMember(member.productId(), member.imageKey());
            shard.changed = true;
        }
    }

    private static String memberKey(ImageMember member) {
        return member.imageKey() + '/' + member.productId();
    }

    /** Records that the lists of {@code listers} may contain image {@code product}. */
    private void addListers(String product, Collection<String> listers) throws Exception {
        listedBy.add(product, listers);
    }

    /** Writes listers as versions before {@link ListedBy} did (a set per image; for tests of their state). */
    void addListersAsSets(String product, Collection<String> listers) throws Exception {
        listedBySets.put(product, ListerIds.withAll(listedBySets.get(product), listers));
    }

    /** Every image whose list may contain image {@code product}. */
    private Set<String> listers(String product) throws Exception {
        Set<String> listers = listedBy.listers(product);
        listers.addAll(ListerIds.decode(listedBySets.get(product)));
        listers.addAll(ListerIds.decode(candidatesOf.get(product)));
        return listers;
    }

    /** What a shard searching no batch owes first: the batch it was restored in the middle of, else its held messages. */
    private void resumeOwed(OpenShard shard, Context ctx, Collector<ListMessage> out) throws Exception {
        if (Boolean.TRUE.equals(batchRunning.value())) {
            startBatch(shard, ctx, out, "restored"); // the job was restored while the shard searched this batch
        } else {
            replayHeld(shard, ctx, out);
        }
    }

    /** One refresh timer chain per shard: a timer not matching {@code nextRefresh} is a leftover and ends. */
    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<ListMessage> out) throws Exception {
        Long continueDue = batchContinue.value();
        if (continueDue != null && continueDue == timestamp) {
            batchContinue.clear();
            OpenShard shard = open(routing.shardOf(ctx.getCurrentKey()), ctx);
            if (shard.restore != null) {
                if (restoreSlice(shard, System.nanoTime())) {
                    resumeOwed(shard, ctx, out);
                } else {
                    scheduleBatchContinue(ctx);
                }
            } else if (shard.run != null) {
                runSlice(shard, ctx, out, System.nanoTime());
            } else {
                resumeOwed(shard, ctx, out);
            }
        }
        Long batchDue = batchCheck.value();
        if (batchDue != null && batchDue == timestamp) {
            batchCheck.clear();
            OpenShard shard = open(routing.shardOf(ctx.getCurrentKey()), ctx);
            if (shard.restore != null) {
                scheduleBatchCheck(ctx, ctx.timerService().currentProcessingTime() + batchQuietMs); // after the rebuild
            } else if (shard.pendingCount > 0 && shard.run == null && !Boolean.TRUE.equals(batchRunning.value())) {
                long now = ctx.timerService().currentProcessingTime();
                // Silence is counted without this subtask's own batch searches (no input is read meanwhile). While
                // another subtask searches its batch, back-pressure starves this one of input as long: with
                // other subtasks, a silence shorter than twice this subtask's own last batch search does not
                // end a batch.
                long ownSearches = batchSearchMsTotal - shard.batchSearchMsAtLastArrival;
                long starvation = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks() > 1 ? 2 * lastBatchSearchMs : 0;
                // A larger batch waits out longer pauses upstream (checkpoints, GC of a large state): 1 s more per
                // QUIET_IMAGES_PER_SECOND collected, a few per cent of the time the batch's search will take.
                long growing = shard.pendingCount * 1000L / QUIET_IMAGES_PER_SECOND;
                long quietAt = shard.lastPendingArrival + ownSearches + Math.max(Math.max(batchQuietMs, starvation), growing);
                long lateAt = shard.firstPendingAt + batchMaxDelayMs;
                if (now >= quietAt || now >= lateAt) {
                    startBatch(shard, ctx, out, now >= quietAt ? "quiet" : "max delay");
                } else {
                    scheduleBatchCheck(ctx, Math.min(quietAt, lateAt));
                }
            }
        }
        Long expected = nextRefresh.value();
        if (expected == null || expected != timestamp) {
            return;
        }
        OpenShard shard = open(routing.shardOf(ctx.getCurrentKey()), ctx);
        if (shard.run == null && shard.restore == null) {
            shard.index.maybeRefresh(); // a batch search refreshes when its graph build ends, a rebuild when it ends
        }
        scheduleRefresh(ctx, timestamp + REFRESH_TICK_MS);
    }

    private void scheduleRefresh(Context ctx, long at) throws Exception {
        nextRefresh.update(at);
        ctx.timerService().registerProcessingTimeTimer(at);
    }

    /**
     * The shard's heap side, read from its state when first touched. A new index and bar index are built
     * from it ({@link RestoreRun}): at once when that fits in a slice, else in slices that timers run,
     * the shard holding every message meanwhile.
     */
    private OpenShard open(int shard, Context ctx) throws Exception {
        OpenShard open = shards.get(shard);
        if (open != null) {
            return open;
        }
        long started = System.nanoTime();
        ShardIndex index = ShardIndex.builder()
                .dimension(dimension)
                .maxConn(config.get(IndexerOptions.HNSW_MAX_CONN))
                .beamWidth(config.get(IndexerOptions.HNSW_BEAM_WIDTH))
                .searchCandidates(Math.max(config.get(IndexerOptions.SEARCH_CANDIDATES), CANDIDATE_DEPTH_FACTOR * listDepth))
                .refreshMaxAge(config.get(IndexerOptions.INDEX_REFRESH_MAX_AGE))
                .build();
        // Images of a batch not searched yet go into the graph with their batch (searchBatch).
        Set<String> pendingKeys = new HashSet<>();
        for (String key : batchPending.keys()) {
            pendingKeys.add(key);
        }
        // What is left of a batch that ended is nodes already: it only leaves batch-pending (RestoreRun.Step.PENDING).
        List<String> endedBatch = List.of();
        if (Boolean.TRUE.equals(batchClearing.value())) {
            endedBatch = new ArrayList<>(pendingKeys);
            pendingKeys.clear();
        }
        List<ImageVector> restored = new ArrayList<>();
        Map<String, Long> generations = new HashMap<>();
        Map<String, String> representatives = new HashMap<>();
        for (Map.Entry<String, StoredImage> e : images.entries()) {
            StoredImage image = e.getValue();
            if (!pendingKeys.contains(e.getKey())) restored.add(new ImageVector(e.getKey(), image.vector()));
            generations.put(e.getKey(), image.generation());
            representatives.put(e.getKey(), image.representative());
        }
        List<ImageMember> restoredMembers = new ArrayList<>();
        for (ImageMember member : members.values()) {
            restoredMembers.add(member);
        }
        List<ProductImage> restoredProducts = new ArrayList<>();
        for (ProductImage product : products.values()) {
            restoredProducts.add(product);
        }
        Map<String, byte[]> knownBars = new HashMap<>();
        for (Map.Entry<String, byte[]> e : nodeBars.entries()) {
            knownBars.put(e.getKey(), e.getValue());
        }
        ShardSnapshotWriter snapshots = snapshotWriter(shard);
        RecentProbes probes = new RecentProbes(config.get(IndexerOptions.PROBE_WINDOW), listDepth);
        List<RecentProbes.Probe> persisted = new ArrayList<>();
        boolean rekey = false;
        for (Map.Entry<Integer, byte[]> e : probeWindow.entries()) {
            RecentProbes.Probe probe = RecentProbes.Probe.decode(e.getValue());
            persisted.add(probe);
            rekey |= e.getKey() != probes.slotOf(probe.sequence());
        }
        if (!persisted.isEmpty()) {
            List<RecentProbes.Probe> kept = probes.restore(persisted);
            if (rekey || kept.size() < persisted.size()) {
                // neighbours.probe-window changed since the checkpoint: key what is kept by its new slots.
                probeWindow.clear();
                for (RecentProbes.Probe p : kept) probeWindow.put(probes.slotOf(p.sequence()), p.encode());
            }
        }
        NodeBars bars = new NodeBars(listDepth, config.get(IndexerOptions.NEIGHBOURS_K), config.get(IndexerOptions.LOW_BAR_NODES),
                config.get(IndexerOptions.HNSW_MAX_CONN),
                config.get(IndexerOptions.HNSW_BEAM_WIDTH));
        open = new OpenShard(index, probes, bars, generations, representatives, restoredProducts.size(), snapshots);
        open.pendingCount = pendingKeys.size();
        open.number = shard;
        for (Long ignored : batchHeld.keys()) open.heldCount++;
        open.runOwed = Boolean.TRUE.equals(batchRunning.value());
        // A restored batch waits as if its images had just arrived (index.batch.quiet, index.batch.max-delay).
        open.firstPendingAt = open.lastPendingArrival = ctx.timerService().currentProcessingTime();
        open.batchSearchMsAtLastArrival = batchSearchMsTotal;
        // A rebuilt index has new files: the next snapshot re-publishes it whole, so a restore from a
        // checkpoint newer than the shard's last snapshot is published even if the shard stays quiet.
        open.changed = !restored.isEmpty() || !restoredProducts.isEmpty() || !pendingKeys.isEmpty();
        shards.put(shard, open);
        var shardMetrics = getRuntimeContext().getMetricGroup().addGroup("shard", String.valueOf(shard));
        shardMetrics.gauge("images", (Gauge<Integer>) index::size);
        OpenShard opened = open;
        shardMetrics.gauge("products", (Gauge<Integer>) () -> opened.productCount);
        shardMetrics.gauge("restoring", (Gauge<Integer>) () -> opened.restore == null ? 0 : 1);
        shardMetrics.gauge("snapshotCheckpointId", (Gauge<Long>) () -> {
            SnapshotManifest last = opened.snapshots.lastPublished();
            return last == null ? -1L : last.checkpointId();
        });
        shardMetrics.gauge("snapshotAgeMs", (Gauge<Long>) () -> {
            SnapshotManifest last = opened.snapshots.lastPublished();
            return last == null ? -1L : System.currentTimeMillis() - last.createdAt().toEpochMilli();
        });
        Long pending = nextRefresh.value();
        long now = ctx.timerService().currentProcessingTime();
        if (pending == null || pending < now) {
            scheduleRefresh(ctx, now + REFRESH_TICK_MS);
        }
        if (restored.isEmpty() && restoredMembers.isEmpty() && restoredProducts.isEmpty() && endedBatch.isEmpty()) {
            return open; // a new shard: nothing to rebuild
        }
        long read = System.nanoTime();
        open.restore = new RestoreRun(endedBatch, restored, restoredMembers, restoredProducts, knownBars, started, read - started);
        if (!restoreSlice(open, read)) {
            scheduleBatchContinue(ctx); // the rest of the rebuild, then what the shard owes (onTimer)
        }
        return open;
    }

    /** Slices of rebuilds from state run by this subtask (heap only: for tests and logs). */
    private long rebuildSlices;

    /** Nodes, members or products handed to the index, or bars added, between two looks at the clock. */
    private static final int RESTORE_PART = 1_000;

    /**
     * Rebuilds the shard's heap side from what {@link #open} read, until done or the slice that began at
     * {@code sliceStarted} is used up. Returns whether the rebuild is done ({@code shard.restore} is then
     * null; the caller goes on with what the shard owes).
     */
    private boolean restoreSlice(OpenShard shard, long sliceStarted) throws Exception {
        RestoreRun run = shard.restore;
        long deadline = sliceStarted + batchSliceNanos;
        run.slices++;
        rebuildSlices++;
        boolean done = false;
        while (!done && System.nanoTime() < deadline) {
            long stepStarted = System.nanoTime();
            int step = run.step.ordinal();
            int size = run.stepSize();
            int to = Math.min(size, run.next + RESTORE_PART);
            switch (run.step) {
                case PENDING -> {
                    for (String key : run.endedBatch.subList(run.next, to)) batchPending.remove(key);
                }
                case GRAPH -> shard.index.bulkAddImages(run.images.subList(run.next, to));
                case MEMBERS -> shard.index.bulkAddMembers(run.members.subList(run.next, to));
                case PRODUCTS -> shard.index.bulkAddProducts(run.products.subList(run.next, to));
                case BARS -> {
                    for (ImageVector image : run.images.subList(run.next, to)) restoreBar(shard, run, image);
                }
            }
            run.next = to;
            if (to == size) {
                if (run.step == RestoreRun.Step.PENDING) {
                    batchClearing.clear();
                }
                if (run.step == RestoreRun.Step.PRODUCTS) {
                    shard.index.endBulkLoad(); // searchable: a node without a bar in state is searched for one
                }
                if (run.step == RestoreRun.Step.BARS) {
                    Map<String, float[]> vectors = new HashMap<>();
                    for (ImageVector image : run.images) vectors.put(image.imageKey(), image.vector());
                    shard.bars.rebuildLowBars(vectors::get);
                }
                done = !run.advance();
            }
            run.stepNanos[step] += System.nanoTime() - stepStarted;
        }
        long slice = System.nanoTime() - sliceStarted;
        run.longestSliceNanos = Math.max(run.longestSliceNanos, slice);
        if (!done) {
            return false;
        }
        shard.restore = null;
        if (run.images.size() + run.products.size() + run.endedBatch.size() > 0) {
            long[] ms = new long[run.stepNanos.length];
            for (int i = 0; i < ms.length; i++) ms[i] = BatchRun.millis(run.stepNanos[i]);
            LOG.info("shard {}: rebuilt from state ({} image nodes, {} members, {} products; {} images of an ended batch cleared from "
                            + "batch-pending) in {} ms of work over {} ms in {} slices after reading the state in {} ms, the longest slice {} ms "
                            + "(pending {}, graph {}, members {}, products {}, bars {})",
                    shard.number, run.images.size(), run.members.size(), run.products.size(), run.endedBatch.size(),
                    BatchRun.millis(Arrays.stream(run.stepNanos).sum()), BatchRun.millis(System.nanoTime() - run.startedNanos),
                    run.slices, BatchRun.millis(run.readNanos), BatchRun.millis(run.longestSliceNanos), ms[0], ms[1], ms[2], ms[3], ms[4]);
        }
        return true;
    }

    /**
     * A node's bar from state into the bar index. A node without one (state written before bars were kept)
     * gets its partial list on this shard as its known scores, from one search.
     */
    private void restoreBar(OpenShard shard, RestoreRun run, ImageVector image) throws Exception {
        byte[] encoded = run.bars.get(image.imageKey());
        if (encoded == null) {
            List<ScoredProduct> near = shard.index.search(image.vector(), listDepth, SearchOptions.NONE.exclude(image.imageKey()));
            float[] scores = new float[near.size()];
            long[] ids = new long[near.size()];
            for (int i = 0; i < scores.length; i++) {
                scores[i] = near.get(i).score();
                ids[i] = NodeBars.imageId(near.get(i).productId());
            }
            encoded = NodeBars.encode(scores, ids);
            nodeBars.put(image.imageKey(), encoded);
        }
        shard.bars.add(image.imageKey(), NodeBars.decodeScores(encoded), NodeBars.decodeIds(encoded), image.vector());
    }

    /** What a subtask holds in heap for one shard it owns; Flink state stays the source of truth. */
    private static final class OpenShard {
        final ShardIndex index;
        final RecentProbes probes;
        final NodeBars bars;
        /** Generation of each of the shard's images (heap copy of {@code images}). */
        final Map<String, Long> generations;
        /** Representative of each of the shard's images (heap copy of {@code images}). */
        final Map<String, String> representatives;
        /** Replaced once, when a model upgrade moves the new model's snapshots from staging to the store. */
        volatile ShardSnapshotWriter snapshots;
        /** Products whose id belongs to the shard (read by a metric). */
        volatile int productCount;
        /** Written since the last snapshot capture. */
        boolean changed;
        /** Images in {@code batchPending}; when the first of them and the latest arrived (ms, processing time). */
        volatile int pendingCount;
        long firstPendingAt;
        long lastPendingArrival;
        /** The subtask's total batch search time when the latest pending image arrived. */
        long batchSearchMsAtLastArrival;
        long lastCaptureMillis = Long.MIN_VALUE / 2;

        /** The shard's number (set once opened). */
        int number;
        /** The rebuild from state in progress, if any: until it ends, every message is held. */
        RestoreRun restore;
        /** The batch search in progress, if any. */
        BatchRun run;
        /** Restored while it searched a batch: it searches it again before anything else (a timer starts it). */
        boolean runOwed;
        /** Messages in {@code batch-held} (read by a metric); whether they are being handled now. */
        volatile int heldCount;
        boolean replaying;

        OpenShard(ShardIndex index, RecentProbes probes, NodeBars bars, Map<String, Long> generations,
                  Map<String, String> representatives, int productCount, ShardSnapshotWriter snapshots) {
            this.index = index;
            this.probes = probes;
            this.bars = bars;
            this.generations = generations;
            this.representatives = representatives;
            this.productCount = productCount;
            this.snapshots = snapshots;
        }
    }

    @Override
    public void close() throws Exception {
        if (snapshotUploads != null) {
            // Uploads not yet published are worthless after close; let a publication in progress finish.
            snapshotUploads.shutdown();
            snapshotUploads.awaitTermination(10, TimeUnit.SECONDS);
        }
        if (shards != null) {
            for (OpenShard open : shards.values()) {
                open.index.close();
            }
        }
    }
}
