package dev.similarity.search.testing;

import dev.similarity.index.ImageMember;
import dev.similarity.index.ProductImage;
import dev.similarity.index.ProductVector;
import dev.similarity.index.ShardAssignment;
import dev.similarity.index.ShardIndex;
import dev.similarity.index.snapshot.ShardSnapshotWriter;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Stands in for the indexer job when there is no Kafka or Flink around (benchmarks, tests): one
 * real {@link ShardIndex} per shard, products routed by {@link ShardAssignment}, and snapshots
 * published through {@link ShardSnapshotWriter} exactly as the job publishes them. Checkpoint ids
 * rise by one per {@link #publish}, shared by all shards as Flink's are.
 *
 * <p>Not thread-safe: one thread writes and publishes.
 */
public final class ShardPublisher implements AutoCloseable {

  private final int shardCount;
  private final List<ShardIndex> indices = new ArrayList<>();
  private final List<ShardSnapshotWriter> writers = new ArrayList<>();
  private long checkpoint;

  /**
   * @param modelId the model id written into every manifest ({@code id@version})
   * @param retention what each publication keeps in the store
   */
  public ShardPublisher(
      SnapshotStore store, int shardCount, String modelId, int dimension, RetentionPolicy retention) {
    Objects.requireNonNull(store, "store");
    if (shardCount < 1) {
      throw new IllegalArgumentException("shardCount is " + shardCount + "; it must be at least 1");
    }
    this.shardCount = shardCount;
    for (int shard = 0; shard < shardCount; shard++) {
      indices.add(ShardIndex.builder().dimension(dimension).build());
      // Uploads run on the publishing thread: a publication is visible when publish() returns.
      writers.add(new ShardSnapshotWriter(
          store, shard, shardCount, modelId, dimension, retention, Runnable::run, Clock.systemUTC()));
    }
  }

  /**
   * Numbers this publisher's checkpoints after {@code lastCheckpoint}: a second publisher on the
   * same store (another model, as after a model switch of the job) continues the job's sequence.
   */
  public ShardPublisher checkpointsAfter(long lastCheckpoint) {
    this.checkpoint = lastCheckpoint;
    return this;
  }

  /** The shard that owns {@code productId} (or the shared image of that key). */
  public int shardOf(String productId) {
    return ShardAssignment.shardOf(productId, shardCount);
  }

  /** Adds or replaces one product in its shard (published by the next {@link #publish}). */
  public void upsert(String productId, float[] vector, String category, String imageUrl) {
    indices.get(shardOf(productId)).upsert(productId, vector, category, imageUrl);
  }

  /**
   * Adds a shared image as the job does: one node in the shard of its key standing for {@code
   * members}, and each member's product document in the shard of its id (published by the next
   * {@link #publish}).
   */
  public void shareImage(String imageKey, float[] vector, List<ImageMember> members) {
    ShardIndex index = indices.get(shardOf(imageKey));
    index.upsertImage(imageKey, vector);
    for (ImageMember member : members) {
      index.putMember(member);
      indices.get(shardOf(member.productId())).putProduct(
          new ProductImage(member.productId(), imageKey, vector, member.category(), member.imageUrl()));
    }
  }

  /** Loads many products, each into its shard, the fast way (one segment per shard when they fit in RAM). */
  public void bulkLoad(List<ProductVector> products) {
    List<List<ProductVector>> byShard = new ArrayList<>();
    for (int shard = 0; shard < shardCount; shard++) {
      byShard.add(new ArrayList<>());
    }
    for (ProductVector product : products) {
      byShard.get(shardOf(product.productId())).add(product);
    }
    for (int shard = 0; shard < shardCount; shard++) {
      indices.get(shard).bulkLoad(byShard.get(shard));
    }
  }

  /** Publishes every shard as the next checkpoint; returns its id. */
  public long publish() {
    long id = ++checkpoint;
    for (int shard = 0; shard < shardCount; shard++) {
      capture(shard, id);
    }
    return id;
  }

  /** Publishes one shard as the next checkpoint (the others keep their snapshots); returns its id. */
  public long publish(int shard) {
    Objects.checkIndex(shard, shardCount);
    long id = ++checkpoint;
    capture(shard, id);
    return id;
  }

  private void capture(int shard, long id) {
    ShardSnapshotWriter writer = writers.get(shard);
    writer.capture(indices.get(shard), id);
    writer.publish(id);
    try {
      writer.flush(1, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new IllegalStateException("publishing shard " + shard + " at checkpoint " + id + " did not finish", e);
    }
    if (writer.lastPublished() == null || writer.lastPublished().checkpointId() != id) {
      throw new IllegalStateException("publishing shard " + shard + " at checkpoint " + id
          + " failed (" + writer.failures() + " failures so far): see the log of ShardSnapshotWriter");
    }
  }

  @Override
  public void close() {
    indices.forEach(ShardIndex::close);
  }
}
