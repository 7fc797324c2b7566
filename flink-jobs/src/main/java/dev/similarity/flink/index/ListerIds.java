package dev.similarity.flink.index;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A set of product ids as one byte array, the value of a shard's "listed-by" state: UTF-8 ids, each
 * followed by '\n' (ids never contain one), no duplicates. Appending and membership work on the bytes,
 * so the shard reads and writes its most frequent state without decoding strings.
 */
final class ListerIds {

    private static final byte SEPARATOR = '\n';

    private ListerIds() {}

    /** {@code known} (null = empty) with every id of {@code ids} it lacks appended; {@code known} itself if none. */
    static byte[] withAll(byte[] known, Collection<String> ids) {
        byte[] current = known == null ? new byte[0] : known;
        ByteArrayOutputStream added = null;
        Set<String> seen = ids.size() > 1 ? new java.util.HashSet<>() : null;
        for (String id : ids) {
            if (seen != null && !seen.add(id)) {
                continue;
            }
            byte[] encoded = id.getBytes(StandardCharsets.UTF_8);
            if (contains(current, encoded)) {
                continue;
            }
            if (added == null) {
                added = new ByteArrayOutputStream();
            }
            added.writeBytes(encoded);
            added.write(SEPARATOR);
        }
        if (added == null) {
            return known;
        }
        byte[] tail = added.toByteArray();
        byte[] joined = new byte[current.length + tail.length];
        System.arraycopy(current, 0, joined, 0, current.length);
        System.arraycopy(tail, 0, joined, current.length, tail.length);
        return joined;
    }

    /** The ids, in the order they were added; empty for null. */
    static Set<String> decode(byte[] known) {
        Set<String> ids = new LinkedHashSet<>();
        if (known == null) {
            return ids;
        }
        int start = 0;
        for (int i = 0; i < known.length; i++) {
            if (known[i] == SEPARATOR) {
                ids.add(new String(known, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return ids;
    }

    private static boolean contains(byte[] set, byte[] id) {
        int start = 0;
        for (int i = 0; i <= set.length - 1; i++) {
            if (set[i] == SEPARATOR) {
                if (i - start == id.length && java.util.Arrays.equals(set, start, i, id, 0, id.length)) {
                    return true;
                }
                start = i + 1;
            }
        }
        return false;
    }
}
