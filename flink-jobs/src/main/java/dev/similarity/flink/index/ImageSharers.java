package dev.similarity.flink.index;

import dev.similarity.index.ImageMember;
import dev.similarity.index.ShardAssignment;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.util.Map;

/**
 * Keyed by image: which products show each distinct image (its sharers). Only an image's first
 * sharer makes it a node of the shards' HNSW graph (IMAGE_ADDED to every shard); later sharers are
 * members behind that node (MEMBER_PUT to its owner shard), so a placeholder shown by thousands of
 * products is one node, and a product joining an image already indexed costs no search at all: its
 * list is the image's. When the last sharer leaves, the node goes (IMAGE_REMOVED); when the image's
 * representative leaves (the sharer that has shown it longest, named in other products' lists), the
 * next-longest takes its place (REPRESENTATIVE_CHANGED).
 *
 * <p>Every sharer change also goes to the image's list ({@link #SHARERS}, keyed by image), which
 * publishes the list for its sharers. State: the image's generation, sharer count and representative
 * (with its version and join sequence), and the other sharers (product -> version, join sequence), so an
 * image of one product, the common case, costs one state read and one write per change.
 */
public final class ImageSharers extends KeyedProcessFunction<String, ImageChange, ShardMessage> {

    private static final long serialVersionUID = 1L;

    /** Sharer joins and departures, for the image's list. */
    public static final OutputTag<ListMessage> SHARERS = new OutputTag<>("image-sharers") {};

    private final ShardRouting routing;
    /** Sharers other than the representative: product -> {catalogue version, join sequence}. */
    private transient MapState<String, long[]> others;
    private transient ValueState<SharedImage> image;
    private transient Counter sharedJoins;

    /**
     * The image's bookkeeping: {@code generation} counts the times it became a node (kept when the
     * last sharer leaves, so a comeback is a new generation); {@code nextSequence} numbers joins; the
     * representative is the sharer with the lowest join sequence (null while the image has none).
     */
    public record SharedImage(long generation, int sharerCount, long nextSequence, String representative,
                              long representativeVersion, long representativeSequence) {

        SharedImage withRepresentative(String product, long version, long sequence, int count) {
            return new SharedImage(generation, count, nextSequence, product, version, sequence);
        }
    }

    public ImageSharers(ShardRouting routing) {
        this.routing = routing;
    }

    @Override
    public void open(OpenContext openContext) {
        others = getRuntimeContext().getMapState(new MapStateDescriptor<>("other-sharers", Types.STRING,
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        image = getRuntimeContext().getState(new ValueStateDescriptor<>("image", SharedImage.class));
        sharedJoins = getRuntimeContext().getMetricGroup().counter("productsJoiningIndexedImages");
    }

    @Override
    public void processElement(ImageChange change, Context ctx, Collector<ShardMessage> out) throws Exception {
        String key = change.imageKey();
        SharedImage state = image.value();
        if (state == null) {
            state = new SharedImage(0, 0, 0, null, 0, 0);
        }
        String product = change.productId();
        boolean isRepresentative = product.equals(state.representative());
        long[] known = isRepresentative ? new long[] {state.representativeVersion(), state.representativeSequence()}
                : state.sharerCount() > 1 ? others.get(product) : null;
        long at = change.eventTimestamp();
        if (change.type() == ImageChange.Type.JOIN) {
            long sequence;
            if (known != null) { // a new category (or version) of a sharer: its member and its list change
                sequence = known[1];
                if (isRepresentative) {
                    state = state.withRepresentative(product, change.catalogueVersion(), sequence, state.sharerCount());
                } else {
                    others.put(product, new long[] {change.catalogueVersion(), sequence});
                }
                image.update(state);
                toOwner(out, ShardMessage.Type.MEMBER_PUT, key, state, member(change, sequence), at);
            } else {
                sequence = state.nextSequence();
                if (state.sharerCount() == 0) {
                    state = new SharedImage(state.generation() + 1, 1, sequence + 1, product, change.catalogueVersion(), sequence);
                    toAll(out, ShardMessage.Type.IMAGE_ADDED, key, state, change.vector(), member(change, sequence), at);
                } else {
                    others.put(product, new long[] {change.catalogueVersion(), sequence});
                    state = new SharedImage(state.generation(), state.sharerCount() + 1, sequence + 1, state.representative(),
                            state.representativeVersion(), state.representativeSequence());
                    toOwner(out, ShardMessage.Type.MEMBER_PUT, key, state, member(change, sequence), at);
                    sharedJoins.inc();
                }
                image.update(state);
            }
            ctx.output(SHARERS, ListMessage.sharerJoined(key, state.generation(), product, change.catalogueVersion(), sequence, at));
            return;
        }
        boolean removed = change.type() == ImageChange.Type.REMOVE;
        if (known == null) {
            if (removed) { // never a sharer here (e.g. its image failed): it still gets its tombstone
                ctx.output(SHARERS, ListMessage.sharerLeft(key, state.generation(), product, change.catalogueVersion(), true, at));
            }
            return;
        }
        ImageMember departing = new ImageMember(product, key, known[1], null, null);
        if (state.sharerCount() == 1) {
            state = new SharedImage(state.generation(), 0, state.nextSequence(), null, 0, 0);
            toAll(out, ShardMessage.Type.IMAGE_REMOVED, key, state, null, departing, at);
        } else if (isRepresentative) {
            // The longest-standing of the others takes its place (read only when a representative leaves).
            String next = null;
            long[] nextSharer = null;
            for (Map.Entry<String, long[]> sharer : others.entries()) {
                if (nextSharer == null || sharer.getValue()[1] < nextSharer[1]) {
                    next = sharer.getKey();
                    nextSharer = sharer.getValue();
                }
            }
            others.remove(next);
            state = state.withRepresentative(next, nextSharer[0], nextSharer[1], state.sharerCount() - 1);
            toAll(out, ShardMessage.Type.REPRESENTATIVE_CHANGED, key, state, null, departing, at);
        } else {
            others.remove(product);
            state = new SharedImage(state.generation(), state.sharerCount() - 1, state.nextSequence(), state.representative(),
                    state.representativeVersion(), state.representativeSequence());
            toOwner(out, ShardMessage.Type.MEMBER_REMOVED, key, state, departing, at);
        }
        image.update(state);
        ctx.output(SHARERS, ListMessage.sharerLeft(key, state.generation(), product, change.catalogueVersion(), removed, at));
    }

    private static ImageMember member(ImageChange change, long sequence) {
        return new ImageMember(change.productId(), change.imageKey(), sequence, change.category(), change.imageUrl());
    }

    private void toAll(Collector<ShardMessage> out, ShardMessage.Type type, String key, SharedImage state, float[] vector,
                       ImageMember member, long at) {
        int shards = routing.shardCount();
        int owner = ShardAssignment.shardOf(key, shards);
        for (int shard = 0; shard < shards; shard++) {
            out.collect(new ShardMessage(routing.keyOf(shard), shard, shards, owner, type, key, state.generation(), vector,
                    state.representative(), member, at));
        }
    }

    private void toOwner(Collector<ShardMessage> out, ShardMessage.Type type, String key, SharedImage state,
                         ImageMember member, long at) {
        int shards = routing.shardCount();
        int owner = ShardAssignment.shardOf(key, shards);
        out.collect(new ShardMessage(routing.keyOf(owner), owner, shards, owner, type, key, state.generation(), null,
                state.representative(), member, at));
    }
}
