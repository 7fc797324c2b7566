package dev.similarity.flink.index;

/**
 * Input of the neighbour list of distinct image {@code target} (the gather side of the
 * scatter-gather, keyed by image). From the shards:
 * <ul>
 *   <li>PARTIAL: one shard's nearest images ({@code ids}, each named by its representative product in
 *       {@code representatives}) to target's vector, for target's generation {@code version}; the
 *       list is complete once all {@code shardCount} shards answered.</li>
 *   <li>CANDIDATE: image {@code candidateId}, represented by {@code candidateRepresentative}, has
 *       similarity {@code score} to target, as of target's generation {@code version}.</li>
 *   <li>CANDIDATES: CANDIDATE for each of images {@code ids} (named by {@code representatives}, with
 *       similarities {@code scores}) in one message, as of target's generation {@code version}: a batch
 *       search sends all of one image's candidates together, so its list reads and writes its state once.
 *       {@code eventTimestamp} is the newest of their events.</li>
 *   <li>REPLACE: image {@code candidateId}, which target may list, is now represented by
 *       {@code candidateRepresentative}.</li>
 *   <li>DROP: image {@code candidateId} is gone; target must not list it.</li>
 * </ul>
 * From {@link ImageSharers}, about the products showing target (its sharers):
 * <ul>
 *   <li>SHARER_JOINED: {@code productId} at catalogue version {@code productVersion} shows target,
 *       the {@code sequence}-th product to do so; its list is target's.</li>
 *   <li>SHARER_LEFT: it shows another image now. SHARER_REMOVED: it left the catalogue: publish a
 *       tombstone (also for a product target never had).</li>
 * </ul>
 * Sharer messages carry target's generation in {@code version}.
 */
public record ListMessage(
        String target,
        Type type,
        long version,
        int shardCount,
        int fromShard,
        String[] ids,
        String[] representatives,
        float[] scores,
        String candidateId,
        String candidateRepresentative,
        float score,
        String productId,
        long productVersion,
        long sequence,
        long eventTimestamp) {

    // CANDIDATES last: a constant added to the end keeps the serialized ordinals of the others.
    public enum Type { PARTIAL, CANDIDATE, REPLACE, DROP, SHARER_JOINED, SHARER_LEFT, SHARER_REMOVED, CANDIDATES }

    /**
     * Shard {@code fromShard}'s partial list of image {@code target} (one of {@code shardCount}); a shard may
     * send it twice (a batch searched again after a restore): the list counts each shard once.
     */
    public static ListMessage partial(String target, long generation, int shardCount, int fromShard, String[] ids,
                                      String[] representatives, float[] scores, long eventTimestamp) {
        return new ListMessage(target, Type.PARTIAL, generation, shardCount, fromShard, ids, representatives, scores,
                null, null, 0f, null, 0, 0, eventTimestamp);
    }

    public static ListMessage candidate(String target, long targetGeneration, String candidateId,
                                        String candidateRepresentative, float score, long eventTimestamp) {
        return new ListMessage(target, Type.CANDIDATE, targetGeneration, 0, -1, null, null, null,
                candidateId, candidateRepresentative, score, null, 0, 0, eventTimestamp);
    }

    /**
     * Images {@code ids} as candidates to image {@code target}'s list, as {@link #candidate} each; the three
     * arrays are parallel and not empty.
     *
     * @throws IllegalArgumentException if they are empty or of different lengths
     */
    public static ListMessage candidates(String target, long targetGeneration, String[] ids, String[] representatives,
                                         float[] scores, long eventTimestamp) {
        if (ids.length == 0 || representatives.length != ids.length || scores.length != ids.length) {
            throw new IllegalArgumentException("candidates of '" + target + "': " + ids.length + " ids, "
                    + representatives.length + " representatives, " + scores.length + " scores");
        }
        return new ListMessage(target, Type.CANDIDATES, targetGeneration, 0, -1, ids, representatives, scores,
                null, null, 0f, null, 0, 0, eventTimestamp);
    }

    public static ListMessage replace(String target, String candidateId, String representative, long eventTimestamp) {
        return new ListMessage(target, Type.REPLACE, 0, 0, -1, null, null, null, candidateId, representative, 0f,
                null, 0, 0, eventTimestamp);
    }

    public static ListMessage drop(String target, String candidateId, long eventTimestamp) {
        return new ListMessage(target, Type.DROP, 0, 0, -1, null, null, null, candidateId, null, 0f, null, 0, 0,
                eventTimestamp);
    }

    public static ListMessage sharerJoined(String image, long generation, String productId, long productVersion,
                                           long sequence, long eventTimestamp) {
        return new ListMessage(image, Type.SHARER_JOINED, generation, 0, -1, null, null, null, null, null, 0f,
                productId, productVersion, sequence, eventTimestamp);
    }

    public static ListMessage sharerLeft(String image, long generation, String productId, long productVersion,
                                         boolean removed, long eventTimestamp) {
        return new ListMessage(image, removed ? Type.SHARER_REMOVED : Type.SHARER_LEFT, generation, 0, -1, null, null,
                null, null, null, 0f, productId, productVersion, 0, eventTimestamp);
    }
}
