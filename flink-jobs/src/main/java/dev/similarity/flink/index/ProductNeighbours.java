package dev.similarity.flink.index;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import java.util.Arrays;

/**
 * The neighbour candidates of one product, best first, at most {@code depth} of them (k plus a
 * reserve, so that removals leave a full list). Kept in Flink state in the compact encoding of
 * {@link #encode()}: the gather operator reads it for nearly every message, and Flink's POJO and String
 * serializers cost several times more (they write strings char by char).
 */
public class ProductNeighbours {

    /** Catalogue version of the product's own vector; -1 while only candidates have arrived. */
    public long version = -1;
    public int shardCount;
    public int partialsReceived;
    public String[] ids = new String[0];
    public float[] scores = new float[0];
    /** What was last published: top-k ids and the version they reflected; null ids = never. */
    public String[] publishedIds;
    public long publishedVersion = -1;

    public ProductNeighbours() {}

    public boolean complete() {
        return version >= 0 && partialsReceived >= shardCount;
    }

    /** Starts over for a new vector of the product: old candidates were scored against the old vector. */
    public void startVersion(long newVersion, int shards) {
        if (version >= 0) {
            ids = new String[0];
            scores = new float[0];
        }
        version = newVersion;
        shardCount = shards;
        partialsReceived = 0;
    }

    /**
     * Sets id's score (inserting it when it ranks within depth); keeps the order best first.
     * Returns whether the candidates changed.
     */
    public boolean offer(String id, float score, int depth) {
        int existing = indexOf(id);
        if (existing >= 0) {
            if (scores[existing] == score) {
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
        float[] newScores = new float[size];
        for (int i = 0, j = 0; i < size; i++) {
            if (i == at) {
                newIds[i] = id;
                newScores[i] = score;
            } else {
                newIds[i] = ids[j];
                newScores[i] = scores[j];
                j++;
            }
        }
        ids = newIds;
        scores = newScores;
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

    public float[] topScores(int k) {
        return Arrays.copyOf(scores, Math.min(k, scores.length));
    }

    /**
     * Compact encoding: version, shardCount, partialsReceived, publishedVersion, the candidates
     * (score, UTF-8 id) best first, then the published ids (count -1 for never published).
     */
    public byte[] encode() {
        byte[][] idBytes = utf8(ids);
        byte[][] publishedBytes = publishedIds == null ? new byte[0][] : utf8(publishedIds);
        int size = 8 + 4 + 4 + 8 + 4 + 4;
        for (byte[] id : idBytes) size += 4 + 2 + id.length;
        for (byte[] id : publishedBytes) size += 2 + id.length;
        ByteBuffer out = ByteBuffer.allocate(size);
        out.putLong(version).putInt(shardCount).putInt(partialsReceived).putLong(publishedVersion);
        out.putInt(ids.length);
        for (int i = 0; i < ids.length; i++) {
            out.putFloat(scores[i]).putShort((short) idBytes[i].length).put(idBytes[i]);
        }
        out.putInt(publishedIds == null ? -1 : publishedIds.length);
        for (byte[] id : publishedBytes) {
            out.putShort((short) id.length).put(id);
        }
        return out.array();
    }

    /** The inverse of {@link #encode()}. */
    public static ProductNeighbours decode(byte[] encoded) {
        ByteBuffer in = ByteBuffer.wrap(encoded);
        ProductNeighbours decoded = new ProductNeighbours();
        decoded.version = in.getLong();
        decoded.shardCount = in.getInt();
        decoded.partialsReceived = in.getInt();
        decoded.publishedVersion = in.getLong();
        int n = in.getInt();
        decoded.ids = new String[n];
        decoded.scores = new float[n];
        for (int i = 0; i < n; i++) {
            decoded.scores[i] = in.getFloat();
            decoded.ids[i] = readId(in);
        }
        int published = in.getInt();
        if (published >= 0) {
            decoded.publishedIds = new String[published];
            for (int i = 0; i < published; i++) {
                decoded.publishedIds[i] = readId(in);
            }
        }
        return decoded;
    }

    /**
     * Whether {@link #offer} of a candidate would change the encoded candidates, decided on the bytes
     * without decoding them: true if {@code id} is among them with another score, or is not among them
     * and ranks within {@code depth}. Most candidates a shard sends do not rank; this keeps them cheap.
     */
    public static boolean offerWouldChange(byte[] encoded, String id, float score, int depth) {
        ByteBuffer in = ByteBuffer.wrap(encoded);
        in.position(8 + 4 + 4 + 8);
        int n = in.getInt();
        byte[] wanted = id.getBytes(StandardCharsets.UTF_8);
        float worst = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            worst = in.getFloat();
            int length = in.getShort();
            int start = in.position();
            if (length == wanted.length && Arrays.equals(encoded, start, start + length, wanted, 0, length)) {
                return worst != score;
            }
            in.position(start + length);
        }
        return n < depth || score > worst;
    }

    /** The catalogue version in an encoding made by {@link #encode()}. */
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

    public float worstScore() {
        return scores.length == 0 ? Float.NEGATIVE_INFINITY : scores[scores.length - 1];
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
        String[] newIds = new String[ids.length - 1];
        float[] newScores = new float[ids.length - 1];
        System.arraycopy(ids, 0, newIds, 0, at);
        System.arraycopy(ids, at + 1, newIds, at, ids.length - at - 1);
        System.arraycopy(scores, 0, newScores, 0, at);
        System.arraycopy(scores, at + 1, newScores, at, scores.length - at - 1);
        ids = newIds;
        scores = newScores;
    }
}
