package dev.similarity.flink.index;

import dev.similarity.index.ImageMember;

/**
 * A change of a distinct image, from {@link ImageSharers} to the shards. The operator is keyed by
 * {@code routingKey} (see {@link ShardRouting}); {@code ownerShard} holds the image's node and its
 * members (the products showing it).
 * <ul>
 *   <li>IMAGE_ADDED (to every shard): the image's first product arrived. The owner stores the node
 *       and {@code member}; every shard searches its nodes near {@code vector} (scatter).</li>
 *   <li>IMAGE_REMOVED (to every shard): its last product, {@code member}, left: the owner deletes the
 *       node, every shard tells the lists that may name the image to drop it.</li>
 *   <li>REPRESENTATIVE_CHANGED (to every shard): the product that represented the image,
 *       {@code member}, left; {@code representative} takes its place in the lists naming the image.</li>
 *   <li>MEMBER_PUT / MEMBER_REMOVED (to the owner only): another product shows the image, or stopped
 *       showing it (or changed its category).</li>
 * </ul>
 */
public record ShardMessage(
        int routingKey,
        int shard,
        int shardCount,
        int ownerShard,
        Type type,
        String imageKey,
        long generation,
        float[] vector,
        String representative,
        ImageMember member,
        long eventTimestamp) {

    public enum Type { IMAGE_ADDED, IMAGE_REMOVED, REPRESENTATIVE_CHANGED, MEMBER_PUT, MEMBER_REMOVED }

    public boolean isOwner() {
        return shard == ownerShard;
    }
}
