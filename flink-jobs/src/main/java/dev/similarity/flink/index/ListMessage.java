package dev.similarity.flink.index;

/**
 * Input of the neighbour list of product {@code target} (gather side of the scatter-gather).
 * <ul>
 *   <li>PARTIAL: one shard's nearest products to target's vector of {@code catalogueVersion}; the list
 *       is complete once all {@code shardCount} shards answered.</li>
 *   <li>CANDIDATE: product {@code candidateId} has similarity {@code score} to target's vector of
 *       {@code catalogueVersion} (-1: unknown); a candidate scored against another version is stale.</li>
 *   <li>RESCORE: {@code candidateId}, which target may list, has a new vector ({@code vector}).</li>
 *   <li>DROP: {@code candidateId} was removed; target must not list it.</li>
 *   <li>REMOVED: target itself was removed: publish a tombstone.</li>
 * </ul>
 */
public record ListMessage(
        String target,
        Type type,
        long catalogueVersion,
        int shardCount,
        String[] ids,
        float[] scores,
        float[] vector,
        String candidateId,
        float score,
        long eventTimestamp) {

    public enum Type { PARTIAL, CANDIDATE, RESCORE, DROP, REMOVED }

    public static ListMessage partial(String target, long version, int shardCount, String[] ids, float[] scores,
                                      float[] targetVector, long eventTimestamp) {
        return new ListMessage(target, Type.PARTIAL, version, shardCount, ids, scores, targetVector, null, 0f, eventTimestamp);
    }

    public static ListMessage candidate(String target, long targetVersion, String candidateId, float score, long eventTimestamp) {
        return new ListMessage(target, Type.CANDIDATE, targetVersion, 0, null, null, null, candidateId, score, eventTimestamp);
    }

    public static ListMessage rescore(String target, String candidateId, float[] candidateVector, long eventTimestamp) {
        return new ListMessage(target, Type.RESCORE, 0, 0, null, null, candidateVector, candidateId, 0f, eventTimestamp);
    }

    public static ListMessage drop(String target, String candidateId, long eventTimestamp) {
        return new ListMessage(target, Type.DROP, 0, 0, null, null, null, candidateId, 0f, eventTimestamp);
    }

    public static ListMessage removed(String target, long version, long eventTimestamp) {
        return new ListMessage(target, Type.REMOVED, version, 0, null, null, null, null, 0f, eventTimestamp);
    }
}
