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
 *   <li>PRODUCT_PUT / PRODUCT_REMOVED (from {@link ProductImages}, to the shard of the product's own id,
 *       {@code member.productId()}): the product's image ({@code imageKey}, {@code vector}), category
 *       and URL for readers of snapshots, or its removal. A product's own shard never changes, so
 *       snapshots always find it there, also while it moves between images.</li>
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

    public enum Type { IMAGE_ADDED, IMAGE_REMOVED, REPRESENTATIVE_CHANGED, MEMBER_PUT, MEMBER_REMOVED, PRODUCT_PUT, PRODUCT_REMOVED }

    public boolean isOwner() {
        return shard == ownerShard;
    }
}
