package dev.similarity.flink.index;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How many products show an image, and the longest-standing of them (lowest join sequence), up to a
 * capacity: the ones a list shows under {@link IdenticalImages#COLLAPSE} or {@link
 * IdenticalImages#FIRST}, and, while the image has no more products than that, all of them, so the
 * common case (an image of one product) publishes without reading the full sharer set. Kept in state
 * in the compact encoding of {@link #encode()}.
 */
final class SharerHead {

    /** One product showing the image: its id, catalogue version and join sequence. */
    record Sharer(String productId, long version, long sequence) {}

    private static final Comparator<Sharer> LONGEST_STANDING = Comparator.comparingLong(Sharer::sequence);

    int count;
    /** The longest-standing sharers, lowest sequence first, at most the capacity. */
    final List<Sharer> head = new ArrayList<>();

    /** Whether {@link #head} holds every sharer. */
    boolean complete() {
        return head.size() == count;
    }

    /**
     * Adds a sharer, or updates its version when it is one already ({@code isNew} false). Returns
     * whether the head's membership changed.
     */
    boolean join(Sharer sharer, boolean isNew, int capacity) {
        if (isNew) {
            count++;
        }
        for (int i = 0; i < head.size(); i++) {
            if (head.get(i).productId().equals(sharer.productId())) {
                head.set(i, sharer);
                return false;
            }
        }
        if (head.size() < capacity || sharer.sequence() < head.get(head.size() - 1).sequence()) {
            head.add(sharer);
            head.sort(LONGEST_STANDING);
            if (head.size() > capacity) {
                head.remove(head.size() - 1);
            }
            return true;
        }
        return false;
    }

    /**
     * Removes a sharer (known to be one). Returns whether it was in the head; then the caller refills
     * the head with {@link #refill} when sharers beyond it remain.
     */
    boolean leave(String productId) {
        count--;
        return head.removeIf(sharer -> sharer.productId().equals(productId));
    }

    /** Replaces the head by the longest-standing {@code capacity} of {@code all} (every sharer). */
    void refill(Iterable<Sharer> all, int capacity) {
        head.clear();
        for (Sharer sharer : all) {
            if (head.size() < capacity || sharer.sequence() < head.get(head.size() - 1).sequence()) {
                head.add(sharer);
                head.sort(LONGEST_STANDING);
                if (head.size() > capacity) {
                    head.remove(head.size() - 1);
                }
            }
        }
    }

    byte[] encode() {
        byte[][] ids = new byte[head.size()][];
        int size = 4 + 4;
        for (int i = 0; i < ids.length; i++) {
            ids[i] = head.get(i).productId().getBytes(StandardCharsets.UTF_8);
            size += 8 + 8 + 2 + ids[i].length;
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        out.putInt(count).putInt(ids.length);
        for (int i = 0; i < ids.length; i++) {
            out.putLong(head.get(i).version()).putLong(head.get(i).sequence()).putShort((short) ids[i].length).put(ids[i]);
        }
        return out.array();
    }

    /** The inverse of {@link #encode()}; an empty head for null. */
    static SharerHead decode(byte[] encoded) {
        SharerHead decoded = new SharerHead();
        if (encoded == null) {
            return decoded;
        }
        ByteBuffer in = ByteBuffer.wrap(encoded);
        decoded.count = in.getInt();
        int n = in.getInt();
        for (int i = 0; i < n; i++) {
            long version = in.getLong();
            long sequence = in.getLong();
            int length = in.getShort();
            String id = new String(encoded, in.position(), length, StandardCharsets.UTF_8);
            in.position(in.position() + length);
            decoded.head.add(new Sharer(id, version, sequence));
        }
        return decoded;
    }
}
