package dev.similarity.flink.index;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import java.util.Map;

/**
 * Keyed by image: gathers the shards' partial results into the image's list and keeps it right as
 * other images arrive, change representative and go; publishes that list for every product showing
 * the image (its sharers), so a placeholder shown by thousands of products has one list, computed
 * once. A product's published list is the image's top k, each other image named once by its
 * representative, preceded by products with exactly the same image as {@link IdenticalImages} says.
 * The image's list is published when its top k (images or representatives) changed, a product's own
 * list when it joins the image; {@link ListPublisher} drops what repeats or is stale. A removed
 * product gets one tombstone.
 */
public final class NeighbourListFunction extends KeyedProcessFunction<String, ListMessage, NeighbourListUpdate> {

    private static final long serialVersionUID = 1L;
    private static final float SAME_IMAGE = 1f;

    private final int k;
    private final int depth;
    private final IdenticalImages identicalImages;
    /** Sharers kept in {@link SharerHead}: those a list shows, and at least one (an image of one product). */
    private final int headCapacity;
    /** {@link ImageNeighbours} in its compact encoding: read for nearly every message, so cheap to decode. */
    private transient ValueState<byte[]> neighbours;
    /** {@link SharerHead} in its compact encoding: the sharer count and the longest-standing sharers. */
    private transient ValueState<byte[]> head;
    /** The image's other sharers, beyond the head: product -> {catalogue version, join sequence}. */
    private transient MapState<String, long[]> others;
    /** The newest generation of the image that has ended (its last product left): older messages are stale. */
    private transient ValueState<Long> retiredVersion;

    public NeighbourListFunction(int k, int reserve, IdenticalImages identicalImages) {
        this.k = k;
        this.depth = k + reserve;
        this.identicalImages = identicalImages;
        this.headCapacity = Math.max(1, identicalImages.shown(Integer.MAX_VALUE, k) + 1);
    }

    @Override
    public void open(OpenContext openContext) {
        neighbours = getRuntimeContext().getState(new ValueStateDescriptor<>("neighbours", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        head = getRuntimeContext().getState(new ValueStateDescriptor<>("sharer-head", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        others = getRuntimeContext().getMapState(new MapStateDescriptor<>("other-sharers", Types.STRING,
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        retiredVersion = getRuntimeContext().getState(new ValueStateDescriptor<>("retired-version", Long.class));
    }

    @Override
    public void processElement(ListMessage message, Context ctx, Collector<NeighbourListUpdate> out) throws Exception {
        switch (message.type()) {
            case SHARER_JOINED -> sharerJoined(message, out);
            case SHARER_LEFT, SHARER_REMOVED -> sharerLeft(message, out);
            default -> listChanged(message, out);
        }
    }

    private void listChanged(ListMessage message, Collector<NeighbourListUpdate> out) throws Exception {
        byte[] stored = neighbours.value();
        if (stored != null && candidatesChangeNothing(stored, message)) {
            return; // most candidates do not rank: decided without decoding the state
        }
        ImageNeighbours state = stored == null ? null : ImageNeighbours.decode(stored);
        switch (message.type()) {
            case PARTIAL -> {
                if (state == null || message.version() > state.version) {
                    Long retired = retiredVersion.value(); // read only when a generation may start
                    if (retired != null && message.version() <= retired) {
                        return;
                    }
                }
                if (state == null) {
                    state = new ImageNeighbours();
                }
                if (message.version() < state.version) {
                    return;
                }
                if (message.version() > state.version) {
                    state.startVersion(message.version(), message.shardCount());
                }
                for (int i = 0; i < message.ids().length; i++) {
                    state.offer(message.ids()[i], message.representatives()[i], message.scores()[i], depth);
                }
                state.partialFrom(message.fromShard());
            }
            case CANDIDATE, CANDIDATES -> {
                if (state == null) {
                    Long retired = retiredVersion.value();
                    if (retired != null && message.version() <= retired) {
                        return;
                    }
                    state = new ImageNeighbours();
                }
                boolean scoredForOtherVersion = message.version() >= 0 && state.version >= 0
                        && message.version() != state.version;
                if (scoredForOtherVersion || !offerCandidates(state, message)) {
                    return; // most candidates do not rank: no state write
                }
            }
            case REPLACE -> {
                if (state == null || !state.replace(message.candidateId(), message.candidateRepresentative())) {
                    return;
                }
            }
            case DROP -> {
                if (state == null || !state.remove(message.candidateId())) {
                    return;
                }
            }
            default -> throw new IllegalArgumentException("not a list message: " + message.type());
        }
        if (state.complete() && state.topChangedSincePublished(k)) {
            state.markPublished(k);
            publishToAll(state, SharerHead.decode(head.value()), message.eventTimestamp(), out);
        }
        neighbours.update(state.encode());
    }

    /** Whether the candidates of a CANDIDATE(S) message would leave the stored list as it is (false for other types). */
    private boolean candidatesChangeNothing(byte[] stored, ListMessage message) {
        boolean one = message.type() == ListMessage.Type.CANDIDATE;
        if (!one && message.type() != ListMessage.Type.CANDIDATES) {
            return false;
        }
        long version = ImageNeighbours.encodedVersion(stored);
        if (message.version() >= 0 && version >= 0 && message.version() != version) {
            return true; // scored for another generation of the image
        }
        if (one) {
            return !ImageNeighbours.offerWouldChange(stored, message.candidateId(), message.candidateRepresentative(),
                    message.score(), depth);
        }
        for (int i = 0; i < message.ids().length; i++) {
            if (ImageNeighbours.offerWouldChange(stored, message.ids()[i], message.representatives()[i],
                    message.scores()[i], depth)) {
                return false;
            }
        }
        return true;
    }

    /** Offers the message's candidates to the list; whether any changed it. */
    private boolean offerCandidates(ImageNeighbours state, ListMessage message) {
        if (message.type() == ListMessage.Type.CANDIDATE) {
            return state.offer(message.candidateId(), message.candidateRepresentative(), message.score(), depth);
        }
        boolean changed = false;
        for (int i = 0; i < message.ids().length; i++) {
            changed |= state.offer(message.ids()[i], message.representatives()[i], message.scores()[i], depth);
        }
        return changed;
    }

    private void sharerJoined(ListMessage message, Collector<NeighbourListUpdate> out) throws Exception {
        String product = message.productId();
        SharerHead.Sharer sharer = new SharerHead.Sharer(product, message.productVersion(), message.sequence());
        SharerHead sharerHead = SharerHead.decode(head.value());
        int at = sharerHead.indexOf(product);
        boolean headChanged = false;
        if (at >= 0) {
            sharerHead.head.set(at, sharer); // a new version of a sharer
        } else if (!sharerHead.complete() && others.contains(product)) {
            others.put(product, new long[] {sharer.version(), sharer.sequence()});
        } else {
            // Joins come in sequence order, so a new sharer is the newest: it goes to the head only if there is room.
            sharerHead.count++;
            if (sharerHead.head.size() < headCapacity) {
                sharerHead.add(sharer);
                headChanged = true;
            } else {
                others.put(product, new long[] {sharer.version(), sharer.sequence()});
            }
        }
        head.update(sharerHead.encode());
        byte[] stored = neighbours.value();
        ImageNeighbours state = stored == null ? null : ImageNeighbours.decode(stored);
        if (state == null || !state.complete()) {
            return; // published to every sharer when the list completes
        }
        if (headChanged && identicalImages != IdenticalImages.EXCLUDE) {
            publishToAll(state, sharerHead, message.eventTimestamp(), out); // the others may now show it
        } else {
            out.collect(listFor(product, message.productVersion(), state, sharerHead, message.eventTimestamp()));
        }
    }

    private void sharerLeft(ListMessage message, Collector<NeighbourListUpdate> out) throws Exception {
        String product = message.productId();
        if (message.type() == ListMessage.Type.SHARER_REMOVED) {
            out.collect(new NeighbourListUpdate(product, true, null, null, message.productVersion(),
                    message.eventTimestamp(), System.currentTimeMillis()));
        }
        SharerHead sharerHead = SharerHead.decode(head.value());
        int at = sharerHead.indexOf(product);
        boolean fromHead = at >= 0;
        if (fromHead) {
            sharerHead.head.remove(at);
            if (sharerHead.count - 1 > sharerHead.head.size()) {
                moveLongestStandingOtherToHead(sharerHead);
            }
        } else if (!sharerHead.complete() && others.contains(product)) {
            others.remove(product);
        } else {
            return; // not a sharer (a product never indexed, say): the tombstone was all
        }
        sharerHead.count--;
        if (sharerHead.count == 0) {
            // The image's generation ended (the last product left); a later one starts from scratch.
            head.clear();
            byte[] stored = neighbours.value();
            if (stored == null || ImageNeighbours.encodedVersion(stored) <= message.version()) {
                neighbours.clear();
                Long retired = retiredVersion.value();
                retiredVersion.update(Math.max(retired == null ? -1 : retired, message.version()));
            }
            return;
        }
        head.update(sharerHead.encode());
        if (fromHead && identicalImages != IdenticalImages.EXCLUDE) {
            byte[] stored = neighbours.value();
            ImageNeighbours state = stored == null ? null : ImageNeighbours.decode(stored);
            if (state != null && state.complete()) {
                publishToAll(state, sharerHead, message.eventTimestamp(), out); // the others may have shown it
            }
        }
    }

    /** Refills the head from the other sharers (read only when a sharer in the head leaves). */
    private void moveLongestStandingOtherToHead(SharerHead sharerHead) throws Exception {
        String next = null;
        long[] nextSharer = null;
        for (Map.Entry<String, long[]> sharer : others.entries()) {
            if (nextSharer == null || sharer.getValue()[1] < nextSharer[1]) {
                next = sharer.getKey();
                nextSharer = sharer.getValue();
            }
        }
        others.remove(next);
        sharerHead.add(new SharerHead.Sharer(next, nextSharer[0], nextSharer[1]));
    }

    private void publishToAll(ImageNeighbours state, SharerHead sharerHead, long eventTimestamp,
                              Collector<NeighbourListUpdate> out) throws Exception {
        if (sharerHead.count == 0) {
            return;
        }
        for (SharerHead.Sharer sharer : sharerHead.head) {
            out.collect(listFor(sharer.productId(), sharer.version(), state, sharerHead, eventTimestamp));
        }
        if (!sharerHead.complete()) {
            for (Map.Entry<String, long[]> sharer : others.entries()) {
                out.collect(listFor(sharer.getKey(), sharer.getValue()[0], state, sharerHead, eventTimestamp));
            }
        }
    }

    /** The list of {@code product}: products with its exact image as the policy says, then other images. */
    private NeighbourListUpdate listFor(String product, long version, ImageNeighbours state, SharerHead sharerHead,
                                        long eventTimestamp) {
        int twins = identicalImages.shown(sharerHead.count - 1, k);
        int others = Math.min(k - twins, state.ids.length);
        String[] ids = new String[twins + others];
        float[] scores = new float[twins + others];
        int at = 0;
        for (SharerHead.Sharer sharer : sharerHead.head) {
            if (at == twins) {
                break;
            }
            if (!sharer.productId().equals(product)) {
                ids[at] = sharer.productId();
                scores[at++] = SAME_IMAGE;
            }
        }
        for (int i = 0; i < others; i++, at++) {
            ids[at] = state.representatives[i];
            scores[at] = state.scores[i];
        }
        return new NeighbourListUpdate(product, false, ids, scores, version, eventTimestamp, System.currentTimeMillis());
    }
}
