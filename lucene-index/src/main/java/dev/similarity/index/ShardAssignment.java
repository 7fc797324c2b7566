package dev.similarity.index;

import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.lucene.util.StringHelper;

/**
 * Which shard owns a product.
 *
 * <p>The shard is {@code floorMod(murmur3_x86_32(utf8(productId), seed 0), numShards)}. It depends
 * only on the id's bytes and the shard count, so it is the same in every JVM, on every machine and
 * in every release. <b>Changing the hash, its seed or the encoding re-shards every product</b>: each
 * shard's index would then hold products it no longer owns and lack ones it does, so such a change
 * needs a full rebuild of all shards from the catalogue. Changing {@code numShards} re-shards most
 * products for the same reason.
 */
public final class ShardAssignment {

  /** Murmur3 seed. Part of the shard function: never change it (see class comment). */
  private static final int SEED = 0;

  private ShardAssignment() {}

  /**
   * The shard, in {@code [0, numShards)}, that owns {@code productId}.
   *
   * @throws IllegalArgumentException if {@code numShards < 1}
   */
  public static int shardOf(String productId, int numShards) {
    Objects.requireNonNull(productId, "productId");
    if (numShards < 1) {
      throw new IllegalArgumentException(
          "numShards is " + numShards + "; it must be at least 1 (the number of index shards)");
    }
    byte[] utf8 = productId.getBytes(StandardCharsets.UTF_8);
    return Math.floorMod(StringHelper.murmurhash3_x86_32(utf8, 0, utf8.length, SEED), numShards);
  }
}
