package dev.similarity.flink.index;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The neighbour candidates of one distinct image, best first, at most {@code depth} of them (k plus a
 * reserve, so that removals leave a full list): other images, each with the product that represents
 * it in lists. Kept in Flink state in the compact encoding of {@link #encode()}: the gather operator
 * reads it for nearly every message, and Flink's POJO and String serializers cost several times more
 * (they write strings char by char).
 */
public class ImageNeighbours {

    /** Generation of the image whose list this is; -1 while only candidates have arrived. */
    public long version = -1;
    public int shardCount;
    public int partialsReceived;
    /** Bit i set: shard i's partial list arrived (a shard that sends it again is not counted twice). */
    public byte[] shardsAnswered = new byte[0];
    public String[] ids = new String[0];
    public String[] representatives = new String[0];
    public float[] scores = new float[0];
    /** What was last published for the image's products: top-k images and representatives; null = never. */
    public String[] publishedIds;
    public String[] publishedRepresentatives;

    public ImageNeighbours() {}

    public boolean complete() {
        return version >= 0 && partialsReceived >= shardCount;
    }

    /** Starts over for a new generation of the image: nothing said about an earlier one is known to hold. */
    public void startVersion(long newVersion, int shards) {
        if (version >= 0) {
            ids = new String[0];
            representatives = new String[0];
            scores = new float[0];
            publishedIds = null;
            publishedRepresentatives = null;
        }
        version = newVersion;
        shardCount = shards;
        partialsReceived = 0;
        shardsAnswered = new byte[(shards + 7) / 8];
    }

    /**
     * Counts shard {@code shard}'s partial list, once per shard (-1: a sender that does not say, counted
     * every time). Returns whether it was counted.
     */
    public boolean partialFrom(int shard) {
        if (shard >= 0 && shard / 8 < shardsAnswered.length) {
            int bit = 1 << (shard % 8);
            if ((shardsAnswered[shard / 8] & bit) != 0) {
                return false;
            }
            shardsAnswered[shard / 8] |= (byte) bit;
        }
        partialsReceived++;
        return true;
    }

    /**
     * Sets image id's score and representative (inserting it when it ranks within depth); keeps the
     * order best first. Returns whether the candidates changed.
     */
    public boolean offer(String id, String representative, float score, int depth) {
        int existing = indexOf(id);
        if (existing >= 0) {
            if (scores[existing] == score && representatives[existing].equals(representative)) {
                return false;
            }
            removeAt(existing);
        } else if (ids.length >= depth && score <= scores[ids.length - 1]) {
            return false;
        }
        int at = 0;
        while (at < ids.length && scores[at] >= score) {
            at++;
        }
        int size = Math.min(ids.length + 1, depth);
        String[] newIds = new String[size];
        String[] newRepresentatives = new String[size];
        float[] newScores = new float[size];
        for (int i = 0, j = 0; i < size; i++) {
            if (i == at) {
                newIds[i] = id;
                newRepresentatives[i] = representative;
                newScores[i] = score;
            } else {
                newIds[i] = ids[j];
                newRepresentatives[i] = representatives[j];
                newScores[i] = scores[j];
                j++;
            }
        }
        ids = newIds;
        representatives = newRepresentatives;
        scores = newScores;
        return true;
    }

    /** Names image {@code id} by a new representative; returns whether it is listed and changed. */
    public boolean replace(String id, String representative) {
        int at = indexOf(id);
        if (at < 0 || representatives[at].equals(representative)) {
            return false;
        }
        representatives[at] = representative;
        return true;
    }

    public boolean remove(String id) {
        int at = indexOf(id);
        if (at < 0) {
            return false;
        }
        removeAt(at);
        return true;
    }

    public boolean contains(String id) {
        return indexOf(id) >= 0;
    }

    public String[] topIds(int k) {
        return Arrays.copyOf(ids, Math.min(k, ids.length));
    }

    public String[] topRepresentatives(int k) {
        return Arrays.copyOf(representatives, Math.min(k, representatives.length));
    }

    public float[] topScores(int k) {
        return Arrays.copyOf(scores, Math.min(k, scores.length));
    }

    /** Whether the top k (images and representatives) differ from what was last published. */
    public boolean topChangedSincePublished(int k) {
        return publishedIds == null || !Arrays.equals(topIds(k), publishedIds)
                || !Arrays.equals(topRepresentatives(k), publishedRepresentatives);
    }

    public void markPublished(int k) {
        publishedIds = topIds(k);
        publishedRepresentatives = topRepresentatives(k);
    }

    /**
     * Compact encoding: version, shardCount, partialsReceived, the candidates (score, UTF-8 image id,
     * UTF-8 representative) best first, then the published images and representatives (count -1 for
     * never published), then the shards that answered (length, bitmap; absent in encodings written before
     * it was kept).
     */
    public byte[] encode() {
        byte[][] idBytes = utf8(ids);
        byte[][] representativeBytes = utf8(representatives);
        byte[][] publishedBytes = publishedIds == null ? new byte[0][] : utf8(publishedIds);
        byte[][] publishedRepresentativeBytes = publishedIds == null ? new byte[0][] : utf8(publishedRepresentatives);
        int size = 8 + 4 + 4 + 4 + 4 + 2 + shardsAnswered.length;
        for (int i = 0; i < ids.length; i++) size += 4 + 2 + idBytes[i].length + 2 + representativeBytes[i].length;
        for (int i = 0; i < publishedBytes.length; i++) size += 2 + publishedBytes[i].length + 2 + publishedRepresentativeBytes[i].length;
        ByteBuffer out = ByteBuffer.allocate(size);
        out.putLong(version).putInt(shardCount).putInt(partialsReceived);
        out.putInt(ids.length);
        for (int i = 0; i < ids.length; i++) {
            out.putFloat(scores[i]);
            out.putShort((short) idBytes[i].length).put(idBytes[i]);
            out.putShort((short) representativeBytes[i].length).put(representativeBytes[i]);
        }
        out.putInt(publishedIds == null ? -1 : publishedIds.length);
        for (int i = 0; i < publishedBytes.length; i++) {
            out.putShort((short) publishedBytes[i].length).put(publishedBytes[i]);
            out.putShort((short) publishedRepresentativeBytes[i].length).put(publishedRepresentativeBytes[i]);
        }
        out.putShort((short) shardsAnswered.length).put(shardsAnswered);
        return out.array();
    }

    /** The inverse of {@link #encode()}. */
    public static ImageNeighbours decode(byte[] encoded) {
        ByteBuffer in = ByteBuffer.wrap(encoded);
        ImageNeighbours decoded = new ImageNeighbours();
        decoded.version = in.getLong();
        decoded.shardCount = in.getInt();
        decoded.partialsReceived = in.getInt();
        int n = in.getInt();
        decoded.ids = new String[n];
        decoded.representatives = new String[n];
        decoded.scores = new float[n];
        for (int i = 0; i < n; i++) {
            decoded.scores[i] = in.getFloat();
            decoded.ids[i] = readId(in);
            decoded.representatives[i] = readId(in);
        }
        int published = in.getInt();
        if (published >= 0) {
            decoded.publishedIds = new String[published];
            decoded.publishedRepresentatives = new String[published];
            for (int i = 0; i < published; i++) {
                decoded.publishedIds[i] = readId(in);
                decoded.publishedRepresentatives[i] = readId(in);
            }
        }
        if (in.hasRemaining()) {
            decoded.shardsAnswered = new byte[in.getShort()];
            in.get(decoded.shardsAnswered);
        }
        return decoded;
    }

    /**
     * Whether {@link #offer} of a candidate would change the encoded candidates, decided on the bytes
     * without decoding them: true if image {@code id} is among them with another score or
     * representative, or is not among them and ranks within {@code depth}. Most candidates a shard
     * sends do not rank; this keeps them cheap.
     */
    public static boolean offerWouldChange(byte[] encoded, String id, String representative, float score, int depth) {
        ByteBuffer in = ByteBuffer.wrap(encoded);
        in.position(8 + 4 + 4);
        int n = in.getInt();
        byte[] wanted = id.getBytes(StandardCharsets.UTF_8);
        float worst = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            worst = in.getFloat();
            int length = in.getShort();
            int start = in.position();
            boolean match = length == wanted.length && Arrays.equals(encoded, start, start + length, wanted, 0, length);
            in.position(start + length);
            int representativeLength = in.getShort();
            int representativeStart = in.position();
            in.position(representativeStart + representativeLength);
            if (match) {
                byte[] named = representative.getBytes(StandardCharsets.UTF_8);
                return worst != score || !Arrays.equals(encoded, representativeStart,
                        representativeStart + representativeLength, named, 0, named.length);
            }
        }
        return n < depth || score > worst;
    }

    /** The generation in an encoding made by {@link #encode()}. */
    public static long encodedVersion(byte[] encoded) {
        return ByteBuffer.wrap(encoded).getLong(0);
    }

    private static byte[][] utf8(String[] ids) {
        byte[][] bytes = new byte[ids.length][];
        for (int i = 0; i < ids.length; i++) {
            bytes[i] = ids[i].getBytes(StandardCharsets.UTF_8);
            if (bytes[i].length > Short.MAX_VALUE) {
                throw new IllegalArgumentException("product id of " + bytes[i].length + " bytes is over " + Short.MAX_VALUE);
            }
        }
        return bytes;
    }

    private static String readId(ByteBuffer in) {
        int length = in.getShort();
        String id = new String(in.array(), in.position(), length, StandardCharsets.UTF_8);
        in.position(in.position() + length);
        return id;
    }

    private int indexOf(String id) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i].equals(id)) {
                return i;
            }
        }
        return -1;
    }

    private void removeAt(int at) {
        ids = without(ids, at);
        representatives = without(representatives, at);
        float[] newScores = new float[scores.length - 1];
        System.arraycopy(scores, 0, newScores, 0, at);
        System.arraycopy(scores, at + 1, newScores, at, scores.length - at - 1);
        scores = newScores;
    }

    private static String[] without(String[] values, int at) {
        String[] shorter = new String[values.length - 1];
        System.arraycopy(values, 0, shorter, 0, at);
        System.arraycopy(values, at + 1, shorter, at, values.length - at - 1);
        return shorter;
    }
}
