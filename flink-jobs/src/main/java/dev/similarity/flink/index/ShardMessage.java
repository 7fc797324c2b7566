package dev.similarity.flink.index;

/**
 * A product's new vector or its removal, copied to every shard: the owner shard stores or deletes
 * it, and every shard searches its own products near it (scatter). {@code previousVector} is the
 * product's vector before this change, null when it had none. The operator is keyed by
 * {@code routingKey} (see {@link ShardRouting}).
 */
public record ShardMessage(
        int routingKey,
        int shard,
        int shardCount,
        int ownerShard,
        Type type,
        String productId,
        float[] vector,
        float[] previousVector,
        String category,
        String imageUrl,
        long catalogueVersion,
        long eventTimestamp) {

    public enum Type { UPSERT, REMOVE }

    public boolean isOwner() {
        return shard == ownerShard;
    }
}
