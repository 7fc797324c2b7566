package dev.similarity.flink.index;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * How many products show an image, and the longest-standing of them (lowest join sequence), up to a
 * capacity: the ones a list shows under {@link IdenticalImages#COLLAPSE} or {@link
 * IdenticalImages#FIRST}, and at least one, so an image of one product (the common case) needs no
 * other state. The other sharers, joined later, are kept apart. Kept in state in the compact
 * encoding of {@link #encode()}.
 */
final class SharerHead {

    /** One product showing the image: its id, catalogue version and join sequence. */
    record Sharer(String productId, long version, long sequence) {}

    private static final Comparator<Sharer> LONGEST_STANDING = Comparator.comparingLong(Sharer::sequence);

    /** Every sharer of the image, in the head or not. */
    int count;
    /** The longest-standing sharers, lowest sequence first. */
    final List<Sharer> head = new ArrayList<>();

    /** Whether {@link #head} holds every sharer. */
    boolean complete() {
        return head.size() == count;
    }

    int indexOf(String productId) {
        for (int i = 0; i < head.size(); i++) {
            if (head.get(i).productId().equals(productId)) {
                return i;
            }
        }
        return -1;
    }

    /** Adds a sharer to the head, keeping it longest-standing first. */
    void add(Sharer sharer) {
        head.add(sharer);
        head.sort(LONGEST_STANDING);
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
