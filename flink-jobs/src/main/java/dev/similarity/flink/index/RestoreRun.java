package dev.similarity.flink.index;

import dev.similarity.index.ImageMember;
import dev.similarity.index.ImageVector;
import dev.similarity.index.ProductImage;

import java.util.List;
import java.util.Map;

/**
 * A restored shard's heap side being rebuilt from its state, on the heap only: what was read from state
 * when the shard was first touched, and how far the rebuild got. The rebuild runs in slices of about
 * {@code index.batch.slice}, one timer after another, so checkpoint barriers (and with them the commits
 * of the lists' Kafka transactions) pass while a shard of millions of images is rebuilt.
 *
 * <p>Invariants: a shard with a rebuild in progress handles no message (each is held in {@code
 * batch-held}, and follows in arrival order once the rebuild ends) and captures no snapshot; it writes
 * to state only the held messages and what the state it was restored from determines (the rest of an ended
 * batch cleared from {@code batch-pending}, the bar of a node stored before bars were kept, the probe window
 * re-keyed after {@code neighbours.probe-window} changed).
 * So a checkpoint taken between two slices holds the shard state restored from, plus the held messages;
 * a job restored from it rebuilds again from the start.
 */
final class RestoreRun {

    /** The steps of a rebuild, in order. */
    enum Step {
        /** What is left in {@code batch-pending} of a batch that had ended, removed a part per slice; then {@code batch-clearing}. */
        PENDING,
        /** The image nodes into the HNSW graph, a part per slice. */
        GRAPH,
        /** The members of the shard's images, a part per slice. */
        MEMBERS,
        /** The products whose id belongs to the shard, a part per slice; the index is searchable at the step's end. */
        PRODUCTS,
        /** Each node's bar into the bar index ({@link NodeBars}), a part per slice; the low-bar set at the step's end. */
        BARS
    }

    /** The keys in {@code batch-pending} of a batch that had ended ({@code batch-clearing} set), else empty. */
    final List<String> endedBatch;
    /** The shard's nodes (its images not in a pending batch), members and products, as read from state. */
    final List<ImageVector> images;
    final List<ImageMember> members;
    final List<ProductImage> products;
    /** Each node's known scores as {@code node-bars} holds them (a node without is searched for its own). */
    final Map<String, byte[]> bars;
    final long startedNanos;
    /** Time spent reading the state when the shard was first touched (ns). */
    final long readNanos;
    Step step = Step.PENDING;
    /** The next item of {@link #step}. */
    int next;
    /** Time spent in each step, and in the slice that took longest (ns). */
    final long[] stepNanos = new long[Step.values().length];
    long longestSliceNanos;
    int slices;

    RestoreRun(List<String> endedBatch, List<ImageVector> images, List<ImageMember> members, List<ProductImage> products,
               Map<String, byte[]> bars, long startedNanos, long readNanos) {
        this.endedBatch = endedBatch;
        this.images = images;
        this.members = members;
        this.products = products;
        this.bars = bars;
        this.startedNanos = startedNanos;
        this.readNanos = readNanos;
    }

    /** The number of items of {@link #step}. */
    int stepSize() {
        return switch (step) {
            case PENDING -> endedBatch.size();
            case GRAPH, BARS -> images.size();
            case MEMBERS -> members.size();
            case PRODUCTS -> products.size();
        };
    }

    /** Moves to the next step; returns false after the last. */
    boolean advance() {
        next = 0;
        if (step.ordinal() + 1 == Step.values().length) return false;
        step = Step.values()[step.ordinal() + 1];
        return true;
    }
}
