package dev.similarity.flink.index;

import dev.similarity.flink.IndexerOptions;
import dev.similarity.index.tools.ClusteredUnitVectors;
import org.apache.lucene.util.VectorUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reverse updates (a new image entering the lists of the images it is now nearer to) through the
 * job's index operators, with a catalogue 30 times the probe window: clustered vectors of uneven
 * density (dense and sparse clusters, so nearest neighbours are far from symmetric), two shards,
 * then additions, image changes and removals, also across a checkpoint and restore. Every live
 * product's list is compared with the exact top-k of the live images.
 */
class ReverseUpdatesBeyondTheProbeWindowTest {

    private static final int DIM = 16;
    private static final int K = 10;
    private static final int PROBE_WINDOW = 100;
    private static final int CATALOGUE = 3_000;

    @TempDir Path work;
    private IndexPipeline pipeline;
    private final ClusteredUnitVectors dense = new ClusteredUnitVectors(DIM, 12, 0.6, 5);
    private final ClusteredUnitVectors sparse = new ClusteredUnitVectors(DIM, 12, 1.6, 6);
    /** Live product -> its image's vector (every image here is shown by one product). */
    private final Map<String, float[]> live = new LinkedHashMap<>();
    private final Map<String, Long> versions = new LinkedHashMap<>();
    private int images;

    private void open() throws Exception {
        open(IndexerOptions.LOW_BAR_NODES.defaultValue());
    }

    private void open(int lowBarNodes) throws Exception {
        open(lowBarNodes, Map.of());
    }

    private void open(int lowBarNodes, Map<String, String> more) throws Exception {
        Map<String, String> options = new java.util.HashMap<>(Map.of(IndexerOptions.NEIGHBOURS_K.key(), String.valueOf(K),
                IndexerOptions.NEIGHBOURS_RESERVE.key(), "10", IndexerOptions.PROBE_WINDOW.key(), String.valueOf(PROBE_WINDOW),
                IndexerOptions.SHARDS.key(), "2", IndexerOptions.SNAPSHOT_INTERVAL.key(), "10 min",
                IndexerOptions.LOW_BAR_NODES.key(), String.valueOf(lowBarNodes)));
        options.putAll(more);
        pipeline = new IndexPipeline(work, DIM, options);
    }

    @AfterEach
    void close() throws Exception {
        pipeline.close();
    }

    /** Product {@code id} shows a new image of its own. */
    private void show(String id) throws Exception {
        int n = images++;
        float[] vector = n % 3 == 0 ? sparse.next() : dense.next();
        live.put(id, vector);
        pipeline.upsert(id, versions.merge(id, 1L, Long::sum), "image-" + n, vector, "c");
    }

    private void remove(String id) throws Exception {
        live.remove(id);
        pipeline.remove(id, versions.merge(id, 1L, Long::sum));
    }

    /** Additions, image changes and removals, interleaved, spread over the catalogue. */
    private void churn(int each, int seed) throws Exception {
        List<String> ids = new ArrayList<>(live.keySet());
        java.util.Collections.shuffle(ids, new java.util.Random(seed));
        for (int i = 0; i < each; i++) {
            show("added-" + seed + "-" + i);
            show(ids.get(2 * i));
            remove(ids.get(2 * i + 1));
        }
    }

    /** Mean share of each live product's published list that is in the exact top-k of the other live images. */
    private double meanOverlap() {
        List<String> ids = new ArrayList<>(live.keySet());
        float[][] vectors = ids.stream().map(live::get).toArray(float[][]::new);
        double sum = 0;
        for (int i = 0; i < ids.size(); i++) {
            float[] scores = new float[ids.size()];
            for (int j = 0; j < ids.size(); j++) scores[j] = i == j ? Float.NEGATIVE_INFINITY : VectorUtil.dotProduct(vectors[i], vectors[j]);
            float[] sorted = scores.clone();
            Arrays.sort(sorted);
            float kth = sorted[sorted.length - K];
            Set<String> exact = new HashSet<>();
            for (int j = 0; j < ids.size(); j++) if (scores[j] >= kth) exact.add(ids.get(j));
            NeighbourListUpdate list = pipeline.latest(ids.get(i));
            assertThat(list).as("list of %s", ids.get(i)).isNotNull();
            assertThat(list.removed()).as("%s is live", ids.get(i)).isFalse();
            long found = list.neighbourIds() == null ? 0 : Arrays.stream(list.neighbourIds()).filter(exact::contains).count();
            sum += Math.min(found, K) / (double) K;
        }
        System.out.printf("mean overlap %.4f over %d live products%n", sum / ids.size(), ids.size());
        return sum / ids.size();
    }

    @Test
    void listsStayExactWithACatalogueThirtyTimesTheProbeWindowAndAfterARestore() throws Exception {
        open();
        for (int i = 0; i < CATALOGUE; i++) show("p" + i);
        churn(300, 1);
        assertThat(meanOverlap()).as("mean overlap with the exact top-%d", K).isGreaterThanOrEqualTo(0.995);
        pipeline.checkpointAndRestore();
        churn(300, 2);
        assertThat(meanOverlap()).as("mean overlap with the exact top-%d after a restore", K).isGreaterThanOrEqualTo(0.995);
    }

    /**
     * The cause bench-churn found on Fashion-MNIST embeddings: the images whose bar a new image beats
     * lie well beyond its nearest (ranks in the hundreds on a shard), where a search near the image that
     * deepens only while its tail still takes the image stops short. With a low-bar set of 50 (the default
     * covers every node of a small catalogue; here about 1,500 per shard) the bar index must find them.
     */
    @Test
    void listsStayExactWhenNewImagesEnterListsOfImagesFarFromThem() throws Exception {
        open(50);
        for (int i = 0; i < CATALOGUE; i++) show("p" + i);
        churn(300, 1);
        assertThat(meanOverlap()).as("mean overlap with the exact top-%d, a low-bar set of 50", K).isGreaterThanOrEqualTo(0.995);
    }

    /**
     * Removals did not lower bars. Product p's 50 nearest images (more than k + reserve on each of the two
     * shards) all leave; images that arrive later, nearer to p than anything else left but farther than the
     * images that left, must still enter p's list (its owner shard's bar for p still held the scores of the
     * images that left, so they were never sent).
     */
    @Test
    void aListThatLostMoreThanItsReserveTakesTheImagesThatComeAfter() throws Exception {
        open();
        java.util.Random random = new java.util.Random(3);
        float[] p = new float[DIM];
        p[0] = 1;
        for (int i = 0; i < 300; i++) show("filler-" + i); // clustered vectors, far from p's corner
        for (int i = 0; i < 50; i++) put("near-" + i, around(p, 0.05f + 0.002f * i, random));
        put("p", p);
        for (int i = 0; i < 50; i++) remove("near-" + i);
        for (int i = 0; i < 10; i++) put("later-" + i, around(p, 0.5f + 0.02f * i, random));
        NeighbourListUpdate list = pipeline.latest("p");
        assertThat(list.neighbourIds()).as("p's list after its 50 nearest left and 10 images came nearer than the rest")
                .containsExactlyInAnyOrder("later-0", "later-1", "later-2", "later-3", "later-4", "later-5", "later-6", "later-7",
                        "later-8", "later-9");
        assertThat(meanOverlap()).isGreaterThanOrEqualTo(0.995);
    }

    /** The shards' clock when a backlog is replayed: every event sent with timestamps from 1 s on is far behind it. */
    private static final long BACKLOG_CLOCK = 1_000_000;

    /**
     * Bulk phase: a catalogue replayed as a backlog (a first run on an existing catalogue) is collected
     * by each shard and searched in one batch, then streamed changes and a second backlog (a batch onto a
     * full shard: reverse updates to the nodes of the first) follow, across a restore; lists stay exact.
     */
    @Test
    void aCatalogueReplayedAsABacklogIsSearchedInOneBatchPerShardAndListsAreExact() throws Exception {
        open();
        pipeline.shardsClock(BACKLOG_CLOCK);
        for (int i = 0; i < CATALOGUE; i++) show("p" + i);
        assertThat(pipeline.latest("p0")).as("no list before the batch is searched").isNull();
        assertThat(pipeline.shardBatches().batches()).isZero();
        // Silence is counted without the subtask's own batch searches, which take real time here.
        pipeline.shardsClock(BACKLOG_CLOCK + IndexerOptions.INDEX_BATCH_QUIET.defaultValue().toMillis());
        pipeline.shardsClock(BACKLOG_CLOCK + IndexerOptions.INDEX_BATCH_MAX_DELAY.defaultValue().toMillis());
        assertThat(pipeline.shardBatches().batches()).as("one batch per shard").isEqualTo(2);
        assertThat(pipeline.shardBatches().images()).as("every image searched on both shards").isEqualTo(2L * CATALOGUE);
        assertThat(meanOverlap()).as("mean overlap after the batch").isGreaterThanOrEqualTo(0.995);

        // Caught up: changes stream through one by one.
        pipeline.eventTime(BACKLOG_CLOCK + IndexerOptions.INDEX_BATCH_MAX_DELAY.defaultValue().toMillis());
        churn(300, 1);
        assertThat(pipeline.shardBatches().batches()).as("streamed changes are not batched").isEqualTo(2);
        assertThat(meanOverlap()).as("mean overlap after streamed changes").isGreaterThanOrEqualTo(0.995);

        // A second backlog onto full shards, with a restore while its batch is pending.
        long maxDelay = IndexerOptions.INDEX_BATCH_MAX_DELAY.defaultValue().toMillis();
        pipeline.eventTime(1_000);
        churn(150, 2);
        pipeline.checkpointAndRestore();
        pipeline.shardsClock(BACKLOG_CLOCK + 2 * maxDelay);
        churn(150, 3);
        pipeline.shardsClock(BACKLOG_CLOCK + 4 * maxDelay);
        assertThat(pipeline.shardBatches().batches()).as("after the restore, one batch per shard: the restored images with the new")
                .isEqualTo(2);
        assertThat(pipeline.shardBatches().images()).as("images searched in them (images that left while pending are not)")
                .isGreaterThan(2L * 300);
        assertThat(meanOverlap()).as("mean overlap after a second backlog across a restore").isGreaterThanOrEqualTo(0.995);
    }

    /**
     * Bulk phase: a second backlog onto full shards reaches the lists of the nodes stored before it as
     * candidates (their partial lists were made without it), whose images' listers are in {@code
     * candidates-of}; removing every image of that backlog then leaves no list naming one of them.
     */
    @Test
    void imagesOfASecondBatchLeaveTheListsOfOlderNodesWhenRemoved() throws Exception {
        open();
        long quiet = IndexerOptions.INDEX_BATCH_QUIET.defaultValue().toMillis();
        long maxDelay = IndexerOptions.INDEX_BATCH_MAX_DELAY.defaultValue().toMillis();
        pipeline.shardsClock(BACKLOG_CLOCK);
        for (int i = 0; i < CATALOGUE; i++) show("p" + i);
        pipeline.shardsClock(BACKLOG_CLOCK + quiet);
        pipeline.shardsClock(BACKLOG_CLOCK + maxDelay);
        pipeline.eventTime(1_000);
        for (int i = 0; i < 600; i++) show("q" + i);
        pipeline.shardsClock(BACKLOG_CLOCK + 2 * maxDelay);
        pipeline.shardsClock(BACKLOG_CLOCK + 4 * maxDelay);
        assertThat(pipeline.shardBatches().batches()).as("two batches per shard").isEqualTo(4);
        assertThat(pipeline.candidatesSent()).as("the second batch's candidates to older nodes").isGreaterThan(600);
        pipeline.eventTime(BACKLOG_CLOCK + 4 * maxDelay);
        for (int i = 0; i < 600; i++) remove("q" + i);
        for (String id : live.keySet()) {
            for (String neighbour : pipeline.latest(id).neighbourIds()) {
                assertThat(live).as("%s's list names only live products", id).containsKey(neighbour);
            }
        }
        assertThat(meanOverlap()).isGreaterThanOrEqualTo(0.995);
    }

    /**
     * Bulk phase, batches that end at different moments on different shards: shard 1 searches the first
     * half of a backlog before shard 0 has received any of it (its input lags); the second half then
     * reaches shard 1 as a second batch, and shard 0 gets both halves in one batch. Shard 1 searched the
     * first half's images before the second half's nodes were stored there, so for the first-half images
     * owned by shard 0 the second half can only arrive through shard 0, which sees the pairs inside one
     * batch (the probe window, 100 searches, is far too small to bridge 1,500).
     */
    @Test
    void imagesThatReachAShardAfterItSearchedItsBatchEnterTheListsOfAnotherShardsBatch() throws Exception {
        open();
        long quiet = IndexerOptions.INDEX_BATCH_QUIET.defaultValue().toMillis();
        long maxDelay = IndexerOptions.INDEX_BATCH_MAX_DELAY.defaultValue().toMillis();
        pipeline.shardsClock(BACKLOG_CLOCK);
        pipeline.holdShard(0);
        for (int i = 0; i < CATALOGUE / 2; i++) show("p" + i);
        pipeline.shardsClock(BACKLOG_CLOCK + quiet);
        pipeline.shardsClock(BACKLOG_CLOCK + maxDelay);
        assertThat(pipeline.shardBatches().batches()).as("shard 1 searched the first half alone").isEqualTo(1);
        for (int i = CATALOGUE / 2; i < CATALOGUE; i++) show("p" + i);
        pipeline.releaseShard(0);
        pipeline.shardsClock(BACKLOG_CLOCK + 2 * maxDelay);
        pipeline.shardsClock(BACKLOG_CLOCK + 4 * maxDelay);
        assertThat(pipeline.shardBatches().batches()).as("shard 1: two batches, shard 0: one").isEqualTo(3);
        assertThat(pipeline.shardBatches().images()).as("every image searched on both shards").isEqualTo(2L * CATALOGUE);
        assertThat(meanOverlap()).as("mean overlap after batches that ended apart").isGreaterThanOrEqualTo(0.995);
    }

    /**
     * Bulk phase, a batch searched in slices (1 ms each here, hundreds per batch): changes that arrive while
     * it runs (additions, image changes, removals of products in the batch) wait and follow it in order; a
     * checkpoint taken between two slices, after partial lists were sent and with changes waiting, restores
     * to a shard that searches the whole batch again and sends them again. Lists end exact, and none names a
     * removed product.
     */
    @Test
    void aBatchSearchedInSlicesAcrossARestoreLeavesListsExactAndChangesFollowIt() throws Exception {
        restoreBetweenSlicesOfABatch(() -> pipeline.partialListsSent() >= 500, "partial lists sent");
    }

    /** The same, with the checkpoint taken while the batch's candidates are being sent, node by node. */
    @Test
    void aBatchRestoredWhileItSendsItsCandidatesLeavesListsExact() throws Exception {
        restoreBetweenSlicesOfABatch(() -> pipeline.candidatesSent() >= 200, "candidates sent");
    }

    /**
     * The same after 500 products streamed (their searches in the probe window, which the batch's own images
     * beat), with the checkpoint taken while the probes' candidates are being sent, in parts (at 10^6 their
     * listers' writes held one slice, and a checkpoint, for 40-70 s).
     */
    @Test
    void aBatchRestoredWhileItSendsTheProbesCandidatesLeavesListsExact() throws Exception {
        restoreBetweenSlicesOfABatch(() -> pipeline.batchSteps().containsValue(BatchRun.Step.PROBE_CANDIDATES)
                || pipeline.batchSteps().containsValue(BatchRun.Step.PROBE_LISTERS), "the probes' candidates being sent", 500);
    }

    /**
     * The same, with the checkpoint taken while a shard's ended batch leaves {@code batch-pending} (millions
     * of deletes at 10^6, so in slices too): the restored shard clears the rest and does not search those
     * images again; only a shard still searching at the checkpoint does.
     */
    @Test
    void aBatchRestoredWhileItClearsItsPendingImagesIsNotSearchedAgain() throws Exception {
        restoreBetweenSlicesOfABatch(() -> pipeline.batchSteps().containsValue(BatchRun.Step.CLEAR), "a batch being cleared");
    }

    /**
     * Bulk phase: images that arrive while a batch is searched in slices wait, then form the next batch,
     * which their silence ends like any other (not only index.batch.max-delay).
     */
    @Test
    void imagesHeldDuringABatchFormTheNextBatchWhichQuietEnds() throws Exception {
        open(IndexerOptions.LOW_BAR_NODES.defaultValue(), Map.of(IndexerOptions.INDEX_BATCH_SLICE.key(), "1 ms"));
        long quiet = IndexerOptions.INDEX_BATCH_QUIET.defaultValue().toMillis();
        pipeline.autoContinue(false);
        pipeline.shardsClock(BACKLOG_CLOCK);
        for (int i = 0; i < CATALOGUE / 2; i++) show("p" + i);
        pipeline.shardsClock(BACKLOG_CLOCK + quiet);
        assertThat(pipeline.batchInProgress()).isTrue();
        for (int i = CATALOGUE / 2; i < CATALOGUE; i++) show("p" + i); // held where a batch runs
        pipeline.autoContinue(true);
        long maxDelay = IndexerOptions.INDEX_BATCH_MAX_DELAY.defaultValue().toMillis();
        for (long t = BACKLOG_CLOCK + quiet + 1_000; t < BACKLOG_CLOCK + maxDelay / 2; t += quiet) {
            pipeline.shardsClock(t);
        }
        assertThat(pipeline.shardBatches().images()).as("every image searched on both shards, well before max-delay")
                .isEqualTo(2L * CATALOGUE);
        assertThat(pipeline.shardBatches().batches()).as("the held images' batch too").isGreaterThanOrEqualTo(3);
        assertThat(meanOverlap()).isGreaterThanOrEqualTo(0.995);
    }

    /**
     * A restored shard rebuilds its graph and bar index from state in slices (1 ms each here), so that
     * checkpoints pass while a large shard is rebuilt: what arrives meanwhile is held and follows in
     * order, a checkpoint taken between two slices of the rebuild restores with what was held, and lists
     * stay exact.
     */
    @Test
    void aRestoredShardRebuildsInSlicesHoldingWhatArrivesAndListsStayExact() throws Exception {
        open(IndexerOptions.LOW_BAR_NODES.defaultValue(), Map.of(IndexerOptions.INDEX_BATCH_SLICE.key(), "1 ms"));
        for (int i = 0; i < CATALOGUE; i++) show("p" + i);
        pipeline.checkpointAndRestore();
        pipeline.autoContinue(false);
        churn(100, 1); // the first message opens each shard: the rebuild starts, and everything waits for it
        assertThat(pipeline.shardsRebuilding()).as("the shards are rebuilt in slices").isTrue();
        assertThat(pipeline.latest("added-1-0")).as("no list for an image held during the rebuild").isNull();
        for (int i = 0; i < 3 && pipeline.shardsRebuilding(); i++) pipeline.shardsTick();
        assertThat(pipeline.shardsRebuilding()).as("still rebuilt at the checkpoint").isTrue();
        pipeline.checkpointAndRestore();
        churn(100, 2);
        assertThat(pipeline.shardsRebuilding()).as("rebuilt again after the second restore").isTrue();
        for (int i = 0; i < 20_000 && pipeline.batchInProgress(); i++) pipeline.shardsTick();
        assertThat(pipeline.shardsRebuilding()).isFalse();
        assertThat(pipeline.batchInProgress()).as("held messages all handled").isFalse();
        assertThat(pipeline.rebuildSlices()).as("rebuild slices after the second restore").isGreaterThan(4);
        assertThat(meanOverlap()).as("mean overlap after changes held through two rebuilds").isGreaterThanOrEqualTo(0.995);
        for (String id : live.keySet()) {
            for (String neighbour : pipeline.latest(id).neighbourIds()) {
                assertThat(live).as("%s's list names only live products", id).containsKey(neighbour);
            }
        }
    }

    private void restoreBetweenSlicesOfABatch(java.util.function.BooleanSupplier checkpointWhen, String when) throws Exception {
        restoreBetweenSlicesOfABatch(checkpointWhen, when, 0);
    }

    /** As above, the first {@code streamed} products streamed before the backlog (their searches fill the probe window). */
    private void restoreBetweenSlicesOfABatch(java.util.function.BooleanSupplier checkpointWhen, String when, int streamed) throws Exception {
        open(IndexerOptions.LOW_BAR_NODES.defaultValue(), Map.of(IndexerOptions.INDEX_BATCH_SLICE.key(), "1 ms"));
        long quiet = IndexerOptions.INDEX_BATCH_QUIET.defaultValue().toMillis();
        long maxDelay = IndexerOptions.INDEX_BATCH_MAX_DELAY.defaultValue().toMillis();
        pipeline.autoContinue(false);
        for (int i = 0; i < streamed; i++) show("p" + i);
        long partialListsBefore = pipeline.partialListsSent();
        pipeline.shardsClock(BACKLOG_CLOCK);
        for (int i = streamed; i < CATALOGUE; i++) show("p" + i);
        pipeline.shardsClock(BACKLOG_CLOCK + quiet);
        assertThat(pipeline.batchInProgress()).as("the batch is searched in slices").isTrue();
        assertThat(pipeline.partialListsSent()).as("no partial list before the search reaches step 4").isEqualTo(partialListsBefore);
        for (int i = 0; i < 20_000 && !checkpointWhen.getAsBoolean() && pipeline.batchInProgress(); i++) pipeline.shardsTick();
        assertThat(checkpointWhen.getAsBoolean()).as(when + " before the checkpoint").isTrue();
        assertThat(pipeline.batchInProgress()).as("the batch still runs at the checkpoint").isTrue();
        // A shard that had not ended its batch of every image at the checkpoint searches it (again); one that had does not.
        long clearing = pipeline.batchSteps().values().stream().filter(step -> step == BatchRun.Step.CLEAR).count();
        long searchedAgain = (2 - clearing) * (CATALOGUE - streamed);
        churn(100, 1); // held: the batch runs
        pipeline.checkpointAndRestore();
        pipeline.autoContinue(true);
        pipeline.shardsClock(BACKLOG_CLOCK + quiet + 10_000);
        pipeline.shardsClock(BACKLOG_CLOCK + 2 * maxDelay);
        pipeline.shardsClock(BACKLOG_CLOCK + 4 * maxDelay);
        assertThat(pipeline.batchInProgress()).isFalse();
        ShardIndexFunction.BatchCounts batches = pipeline.shardBatches();
        // A shard that was searching at the checkpoint searches the batch again, then the changes held for it;
        // a shard whose silence had not ended yet took the changes into its pending batch.
        assertThat(batches.batches()).as("batches after the restore").isBetween(2L, 4L);
        assertThat(batches.slices()).as("slices").isGreaterThan(100);
        assertThat(meanOverlap()).as("mean overlap after a sliced batch across a restore").isGreaterThanOrEqualTo(0.995);
        for (String id : live.keySet()) {
            for (String neighbour : pipeline.latest(id).neighbourIds()) {
                assertThat(live).as("%s's list names only live products", id).containsKey(neighbour);
            }
        }
        for (int i = 0; i < CATALOGUE; i++) {
            if (!live.containsKey("p" + i)) {
                assertThat(pipeline.latest("p" + i).removed()).as("tombstone of removed p%d", i).isTrue();
            }
        }
        // Besides those batches, the 200 images held (100 additions, 100 image changes), at most once per shard.
        assertThat(batches.images()).as("images searched after the restore").isLessThanOrEqualTo(searchedAgain + 400);
    }

    private void put(String id, float[] vector) throws Exception {
        int n = images++;
        live.put(id, vector);
        pipeline.upsert(id, versions.merge(id, 1L, Long::sum), "image-" + n, vector, "c");
    }

    /** A unit vector at about {@code distance} from {@code centre}, in a random direction. */
    private static float[] around(float[] centre, float distance, java.util.Random random) {
        float[] v = centre.clone();
        for (int i = 1; i < v.length; i++) v[i] += (float) (distance * random.nextGaussian() / Math.sqrt(v.length - 1));
        VectorUtil.l2normalize(v);
        return v;
    }
}
