package dev.similarity.flink.index;

import java.util.Arrays;

/**
 * The neighbour candidates of one product, best first, at most {@code depth} of them (k plus a
 * reserve, so that removals leave a full list). A Flink POJO: public fields, no-argument constructor.
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
