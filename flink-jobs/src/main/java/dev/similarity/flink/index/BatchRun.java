package dev.similarity.flink.index;

import dev.similarity.index.ImageVector;
import dev.similarity.index.ScoredProduct;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A shard's batch search in progress, on the heap only: the batch's images in arrival order, how far the
 * search got, and what it found, kept until the batch ends.
 *
 * <p>Invariants, so that a checkpoint may fall between any two slices: a run sends a partial list only after
 * its listers are in state ({@link Step#LISTERS}: a superset is harmless, a drop to a list without the
 * image changes nothing), and a candidate only after its image's listers are in state ({@link
 * Step#CANDIDATE_LISTERS}, the same argument) and with its node's known scores, written in the same slice
 * ({@link Step#SEND_CANDIDATES}); the batch stays in {@code batch-pending}
 * until the last slice. A job restored from such a checkpoint searches the whole batch again: the partial
 * lists it sends again are taken as before (each shard's counted once, its images offered again), and a
 * node whose candidates were sent knows their scores, so they are not offered to it twice. The probes'
 * candidates ({@link Step#PROBE_CANDIDATES}) follow their listers ({@link Step#PROBE_LISTERS}) the same way,
 * and sent again they change no list; searches the batch already put into the probe window ({@link
 * Step#WINDOW}) are put in again, each a probe at most twice (a candidate sent twice). From {@link
 * Step#FINISH} on the batch has ended: what is left of it in {@code batch-pending} is only cleared, and a
 * job restored from a checkpoint taken then clears the rest before the shard handles anything
 * ({@link RestoreRun.Step#PENDING}), never searching those images again.
 */
final class BatchRun {

    /** The steps of a batch search (README, "Starting on an existing catalogue"), in order. */
    enum Step {
        /** (1) the owner's new nodes into the HNSW graph, a part per slice, searchable at the step's end. */
        BUILD,
        /** (2) the owner's new images against the probe window of searches made before the batch. */
        PROBES,
        /** (3) every image's partial list against the shard with the whole batch in it. */
        PARTIAL_LISTS,
        /** (3, end) the images each partial list names record it as a lister, before any partial list is sent. */
        LISTERS,
        /** (4) the owner's new images' reverse updates against the nodes stored before the batch; their partial lists sent. */
        OWN_REVERSE,
        /** (5) the owner's new nodes get their bars from their partial lists. */
        BARS,
        /** (6) the other shards' new images' reverse updates against every node; their partial lists sent. */
        OTHER_REVERSE,
        /** (7) each candidate image's lists (those it will be sent to) into {@code candidates-of}, image by image. */
        CANDIDATE_LISTERS,
        /** (7) the candidates found, node by node, each with its node's state. */
        SEND_CANDIDATES,
        /** (7) the bars of the owner's new nodes that took no candidate, into state. */
        OWN_BARS,
        /** (2, 8) the images step 2 sent to recent probes record those probes as listers, in parts, before any is sent. */
        PROBE_LISTERS,
        /** (2, 8) the probes' candidates step 2 found, in parts. */
        PROBE_CANDIDATES,
        /** (8) the batch's latest searches into the probe window (at most its capacity), in parts. */
        WINDOW,
        /** (8) the batch has ended: {@code batch-running} cleared and {@code batch-clearing} set, in one slice. */
        FINISH,
        /** (8) the batch's images leave {@code batch-pending}, a part per slice; then {@code batch-clearing} is cleared. */
        CLEAR
    }

    final List<ShardMessage> batch;
    final List<ImageVector> owned;
    final String trigger;
    final long startedNanos;
    Step step = Step.BUILD;
    /** The next item of {@link #step} (an index into {@link #batch}, or into {@link #owned} while building). */
    int next;
    /** Time spent in each step, and in the slice that took longest (ns). */
    final long[] stepNanos = new long[Step.values().length];
    long longestSliceNanos;
    int slices;
    /** Candidates the probe window found (step 2), and the probes each image entered the list of. */
    final List<ListMessage> probeCandidates = new ArrayList<>();
    final Map<String, List<String>> probeListers = new HashMap<>();
    /** {@link #probeListers} as a list, for {@link Step#PROBE_LISTERS} to write in parts. */
    List<Map.Entry<String, List<String>>> probeListersToWrite;
    /** Images each listed image entered the partial list of (its future listers). */
    final Map<String, List<String>> newListers = new HashMap<>();
    /** {@link #newListers} as a list, for {@link Step#LISTERS} to write in parts. */
    List<Map.Entry<String, List<String>>> listersToWrite;
    /** The candidates by node as a list, for {@link Step#SEND_CANDIDATES} to send in parts; how many were sent. */
    List<Map.Entry<NodeBars.Node, List<Candidate>>> candidatesToSend;
    /** The lists each candidate image will be sent to, for {@link Step#CANDIDATE_LISTERS} to write in parts. */
    List<Map.Entry<String, List<String>>> candidateListers;
    int candidatesSent;
    final ShardIndexFunction.ReverseUpdateCounts countsBefore;
    /** What the reverse updates (steps 4 and 6) found, sent once they are done. */
    final Candidates candidates = new Candidates();

    /** A new image that beat a node's bar during the batch search. */
    record Candidate(String imageKey, String representative, float score, long eventTimestamp) {}

    /** The candidates a batch search found, by node (identity: a node is one object for the whole search). */
    static final class Candidates {
        final Map<NodeBars.Node, List<Candidate>> byNode = new HashMap<>();

        void add(NodeBars.Node node, Candidate candidate) {
            byNode.computeIfAbsent(node, key -> new ArrayList<>(4)).add(candidate);
        }
    }

    /** Step 3's results, compactly: image b's found nodes are {@code ids[b * depth + i]} for {@code i < found[b]}. */
    private final int depth;
    private final int[] nearIds;
    private final float[] nearScores;
    private final byte[] nearFound;
    private final Map<String, Integer> idOrdinals = new HashMap<>();
    private final List<String> ids = new ArrayList<>();

    BatchRun(List<ShardMessage> batch, List<ImageVector> owned, int depth, String trigger,
             ShardIndexFunction.ReverseUpdateCounts countsBefore) {
        if (depth > Byte.MAX_VALUE) {
            throw new IllegalArgumentException("search depth " + depth + " above " + Byte.MAX_VALUE);
        }
        this.batch = batch;
        this.owned = owned;
        this.depth = depth;
        this.trigger = trigger;
        this.countsBefore = countsBefore;
        this.startedNanos = System.nanoTime();
        this.nearIds = new int[batch.size() * depth];
        this.nearScores = new float[batch.size() * depth];
        this.nearFound = new byte[batch.size()];
    }

    /** Keeps image {@code b}'s search results (best first; at most the run's depth are kept). */
    void setNear(int b, List<ScoredProduct> found) {
        int size = Math.min(depth, found.size());
        for (int i = 0; i < size; i++) {
            ScoredProduct p = found.get(i);
            nearIds[b * depth + i] = idOrdinals.computeIfAbsent(p.productId(), id -> {
                ids.add(id);
                return ids.size() - 1;
            });
            nearScores[b * depth + i] = p.score();
        }
        nearFound[b] = (byte) size;
    }

    /** Image {@code b}'s search results as kept by {@link #setNear}, best first. */
    List<ScoredProduct> near(int b) {
        int size = nearFound[b];
        List<ScoredProduct> found = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            found.add(new ScoredProduct(ids.get(nearIds[b * depth + i]), nearScores[b * depth + i]));
        }
        return found;
    }

    int size() {
        return batch.size();
    }

    /** Moves on to the next step, from its first item. */
    void advance() {
        step = Step.values()[step.ordinal() + 1];
        next = 0;
    }

    static long millis(long nanos) {
        return nanos / 1_000_000;
    }
}
