package dev.similarity.flink.index;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.flink.embed.EmbeddingOutcome;
import dev.similarity.flink.event.ProductChange;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.storage.JobManagerCheckpointStorage;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

import dev.similarity.index.snapshot.SnapshotStore;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The job's index operators (product images, image sharers, shards, image lists, publisher) chained
 * in one thread through Flink's operator test harnesses, with real Lucene shards and RocksDB-free
 * keyed state: every message is routed to the next operator by its key until nothing moves. Keeps
 * the newest published record of every product, and can checkpoint and restore every operator.
 */
final class IndexPipeline implements AutoCloseable {

    private static final int MAX_CHECKPOINT_BYTES = 256 << 20;

    private final IndexerConfig config;
    private final ShardRouting routing;
    private final int dimension;
    private KeyedOneInputStreamOperatorTestHarness<String, EmbeddingOutcome, ImageChange> products;
    private KeyedOneInputStreamOperatorTestHarness<String, ImageChange, ShardMessage> sharers;
    private KeyedOneInputStreamOperatorTestHarness<Integer, ShardMessage, ListMessage> shards;
    private KeyedOneInputStreamOperatorTestHarness<String, ListMessage, NeighbourListUpdate> lists;
    private KeyedOneInputStreamOperatorTestHarness<String, NeighbourListUpdate, NeighbourListUpdate> publisher;
    private final Map<String, NeighbourListUpdate> latest = new HashMap<>();
    private long checkpoint;
    private long time = 1_000;
    private ShardIndexFunction shardFunction;
    /** Shards whose messages wait in {@link #held} (in arrival order) instead of reaching them. */
    private final Set<Integer> heldShards = new HashSet<>();
    private final Deque<ShardMessage> held = new ArrayDeque<>();
    private boolean autoContinue = true;
    /** Slices in a row in which the shards sent nothing while work is in progress; a hang past the limit fails. */
    private int idleSlices;
    private static final int MAX_IDLE_SLICES = 10_000;
    private long partialListsSent;
    private long candidatesSent;

    IndexPipeline(Path work, int dimension, Map<String, String> options) throws Exception {
        Map<String, String> settings = new HashMap<>(options);
        settings.put(IndexerOptions.SNAPSHOT_DIR.key(), work.resolve("snapshots").toUri().toString());
        this.config = IndexerConfig.from(settings);
        this.routing = new ShardRouting(config.get(IndexerOptions.SHARDS), 128);
        this.dimension = dimension;
        open(null);
    }

    private void open(OperatorSubtaskState[] restored) throws Exception {
        products = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new ProductImages(routing, "test-model@1")),
                outcome -> outcome.change().productId(), Types.STRING);
        sharers = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new ImageSharers(routing)),
                ImageChange::imageKey, Types.STRING);
        shardFunction = new ShardIndexFunction(config, routing, dimension, "test-model@1");
        shards = new KeyedOneInputStreamOperatorTestHarness<>(new ShardIndexOperator(shardFunction),
                ShardMessage::routingKey, Types.INT);
        lists = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new NeighbourListFunction(
                config.get(IndexerOptions.NEIGHBOURS_K), config.get(IndexerOptions.NEIGHBOURS_RESERVE),
                config.get(IndexerOptions.IDENTICAL_IMAGES))), ListMessage::target, Types.STRING);
        publisher = new KeyedOneInputStreamOperatorTestHarness<>(new KeyedProcessOperator<>(new ListPublisher()),
                NeighbourListUpdate::productId, Types.STRING);
        List<KeyedOneInputStreamOperatorTestHarness<?, ?, ?>> all = List.of(products, sharers, shards, lists, publisher);
        for (int i = 0; i < all.size(); i++) {
            // Checkpoints of a few thousand images exceed the default 5 MB of in-memory checkpoint storage.
            all.get(i).setCheckpointStorage(new JobManagerCheckpointStorage(MAX_CHECKPOINT_BYTES));
            if (restored != null) {
                all.get(i).initializeState(restored[i]);
            }
            all.get(i).open();
        }
    }

    /** Product {@code id} at {@code version} shows the image of bytes {@code content}, embedded as {@code vector}. */
    void upsert(String id, long version, String content, float[] vector, String category) throws Exception {
        ProductChange change = new ProductChange(id, ProductChange.Kind.UPSERT, "http://img/" + content + "?for=" + id,
                category, version, time++, null);
        send(EmbeddingOutcome.embedded(change, vector, HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8)))));
    }

    void remove(String id, long version) throws Exception {
        send(EmbeddingOutcome.removal(new ProductChange(id, ProductChange.Kind.REMOVE, null, null, version, time++, null)));
    }

    private void send(EmbeddingOutcome outcome) throws Exception {
        products.processElement(outcome, 0L);
        drain();
    }

    /** Moves every pending message on to its next operator until none is left. */
    private void drain() throws Exception {
        boolean moved = true;
        while (moved) {
            moved = false;
            for (ImageChange change : take(products)) {
                sharers.processElement(change, 0L);
                moved = true;
            }
            for (ShardMessage message : takeSide(products, ProductImages.PRODUCT_DOCUMENTS)) {
                toShard(message);
                moved = true;
            }
            Deque<ListMessage> toLists = new ArrayDeque<>();
            for (ShardMessage message : take(sharers)) {
                toShard(message);
                moved = true;
            }
            toLists.addAll(takeSide(sharers, ImageSharers.SHARERS));
            toLists.addAll(take(shards));
            for (ListMessage message : toLists) {
                if (message.type() == ListMessage.Type.PARTIAL) partialListsSent++;
                if (message.type() == ListMessage.Type.CANDIDATE) candidatesSent++;
                if (message.type() == ListMessage.Type.CANDIDATES) candidatesSent += message.ids().length;
                lists.processElement(message, 0L);
                moved = true;
            }
            for (NeighbourListUpdate update : take(lists)) {
                publisher.processElement(update, 0L);
                moved = true;
            }
            for (NeighbourListUpdate update : take(publisher)) {
                latest.put(update.productId(), update);
            }
            if (!moved && autoContinue && shardFunction.batchInProgress()) {
                // A batch searched in slices continues from a timer just after now, as on a cluster.
                if (++idleSlices > MAX_IDLE_SLICES) {
                    throw new IllegalStateException("the shards report work in progress (a rebuild, a batch or held messages) "
                            + "but sent nothing in " + MAX_IDLE_SLICES + " slices in a row");
                }
                shards.setProcessingTime(shards.getProcessingTime() + 1);
                moved = true;
            } else if (moved) {
                idleSlices = 0;
            }
        }
    }

    private void toShard(ShardMessage message) throws Exception {
        if (heldShards.contains(message.shard())) {
            held.add(message);
        } else {
            shards.processElement(message, 0L);
        }
    }

    /**
     * Messages for {@code shard} wait from now on until {@link #releaseShard}, as when the channels to
     * one subtask lag behind the others': the other shards search and publish meanwhile.
     */
    void holdShard(int shard) {
        heldShards.add(shard);
    }

    /** Delivers the messages held for {@code shard}, in the order they were sent, and moves what follows. */
    void releaseShard(int shard) throws Exception {
        heldShards.remove(shard);
        List<ShardMessage> release = new ArrayList<>();
        for (var it = held.iterator(); it.hasNext(); ) {
            ShardMessage m = it.next();
            if (m.shard() == shard) {
                release.add(m);
                it.remove();
            }
        }
        for (ShardMessage m : release) shards.processElement(m, 0L);
        drain();
    }

    private static <T> List<T> takeSide(KeyedOneInputStreamOperatorTestHarness<?, ?, ?> harness,
                                        org.apache.flink.util.OutputTag<T> tag) {
        var side = harness.getSideOutput(tag);
        if (side == null) {
            return List.of(); // nothing was ever sent there
        }
        List<T> out = new ArrayList<>();
        for (StreamRecord<T> record : side) out.add(record.getValue());
        side.clear();
        return out;
    }

    private static <T> List<T> take(KeyedOneInputStreamOperatorTestHarness<?, ?, T> harness) {
        List<T> out = harness.extractOutputValues();
        harness.getOutput().clear();
        return out;
    }

    /** Events sent from now on carry timestamps from {@code eventTime} on (ms; the shards' clock starts at 0). */
    void eventTime(long eventTime) {
        time = eventTime;
    }

    /** Sets the shards' processing-time clock (ms), fires their timers due by then, and moves what they send. */
    void shardsClock(long processingTime) throws Exception {
        shards.setProcessingTime(processingTime);
        drain();
    }

    /**
     * Whether a batch searched in slices goes on by itself (the default: the shards' clock moves on 1 ms
     * per slice, as its timers fire on a cluster) or waits for {@link #shardsClock}, so that a test can act
     * between two slices.
     */
    void autoContinue(boolean on) {
        autoContinue = on;
    }

    /** Moves the shards' clock on by 1 ms (one slice of a batch search), and moves what they send. */
    void shardsTick() throws Exception {
        shards.setProcessingTime(shards.getProcessingTime() + 1);
        drain();
    }

    /** Reverse-update candidates the shards sent so far (all of them, restores included). */
    long candidatesSent() {
        return candidatesSent;
    }

    /** Partial lists the shards sent so far (all of them, restores included). */
    long partialListsSent() {
        return partialListsSent;
    }

    /** Whether a shard searches a batch, or has messages held for after one. */
    boolean batchInProgress() {
        return shardFunction.batchInProgress();
    }

    /** The step of each shard's batch search, by shard number; none for a shard searching no batch. */
    java.util.Map<Integer, BatchRun.Step> batchSteps() {
        return shardFunction.batchSteps();
    }

    /** Whether a shard is rebuilt from state after a restore. */
    boolean shardsRebuilding() {
        return shardFunction.rebuilding();
    }

    /** Slices of the shards' rebuilds from state since they were (re)opened. */
    long rebuildSlices() {
        return shardFunction.rebuildSlices();
    }

    /** Batches the shards searched since they were (re)opened, and the images in them. */
    ShardIndexFunction.BatchCounts shardBatches() {
        return shardFunction.batchCounts();
    }

    /** The newest record published for {@code id}: its list, or a tombstone; null if none. */
    NeighbourListUpdate latest(String id) {
        return latest.get(id);
    }

    /** Takes a checkpoint of every operator, closes them (losing heap state: indices, probes) and restores. */
    void checkpointAndRestore() throws Exception {
        long id = ++checkpoint;
        List<KeyedOneInputStreamOperatorTestHarness<?, ?, ?>> all = List.of(products, sharers, shards, lists, publisher);
        OperatorSubtaskState[] states = new OperatorSubtaskState[all.size()];
        for (int i = 0; i < all.size(); i++) {
            states[i] = all.get(i).snapshot(id, time);
        }
        close();
        open(states);
    }

    /**
     * Takes a checkpoint of the shards, completes it and waits until every shard's snapshot of it is
     * published; returns the store.
     */
    SnapshotStore publishSnapshots() throws Exception {
        long id = ++checkpoint;
        shards.snapshot(id, time);
        shards.notifyOfCompletedCheckpoint(id);
        SnapshotStore store = SnapshotStore.at(config.snapshotDir());
        long deadline = System.currentTimeMillis() + 30_000;
        for (int shard = 0; shard < routing.shardCount(); shard++) {
            while (store.latest(shard).map(m -> m.checkpointId() != id).orElse(true)) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("shard " + shard + " published no snapshot of checkpoint " + id);
                }
                Thread.sleep(20);
            }
        }
        return store;
    }

    /** The image key the job gives bytes {@code content} (test images are named by their content). */
    static String imageKey(String content) {
        return ImageKeys.ofBytes(content.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void close() throws Exception {
        for (KeyedOneInputStreamOperatorTestHarness<?, ?, ?> harness : List.of(products, sharers, shards, lists, publisher)) {
            harness.close();
        }
    }
}
