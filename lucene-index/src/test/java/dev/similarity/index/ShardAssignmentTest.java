package dev.similarity.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ShardAssignmentTest {

  /**
   * Pinned outputs, from an independent murmur3_x86_32 (seed 0) of the UTF-8 bytes. If this fails,
   * the shard function changed and every deployed shard index holds the wrong products: do not
   * update these numbers without a plan to rebuild all shards.
   */
  @Test
  void assignmentIsPinnedAcrossReleases() {
    assertEquals(351, ShardAssignment.shardOf("hello", 1000)); // hash 0x248bfa47
    assertEquals(3, ShardAssignment.shardOf("The quick brown fox jumps over the lazy dog", 16)); // 0x2e4ff723
    assertEquals(6, ShardAssignment.shardOf("produit-\u00e9t\u00e9-8812", 7)); // 0x704ee74a, UTF-8
  }

  @Test
  void negativeHashesStillMapIntoRange() {
    // murmur3("product-4") = 0x9b0b5e9d, negative as an int: floorMod, not %, keeps it in range.
    assertEquals(13, ShardAssignment.shardOf("product-4", 16));
    assertEquals(1, ShardAssignment.shardOf("product-4", 10));
  }

  @Test
  void spreadsProductsEvenlyOverShards() {
    int shards = 8;
    int[] counts = new int[shards];
    for (int i = 0; i < 80_000; i++) {
      counts[ShardAssignment.shardOf("product-" + i, shards)]++;
    }
    for (int count : counts) {
      assertTrue(count > 9_500 && count < 10_500, "uneven shard: " + count);
    }
  }

  @Test
  void everyShardIndexIsInRange() {
    for (int i = 0; i < 10_000; i++) {
      int shard = ShardAssignment.shardOf("id" + i, 3);
      assertTrue(shard >= 0 && shard < 3);
    }
    assertEquals(0, ShardAssignment.shardOf("anything", 1));
  }

  @Test
  void refusesShardCountBelowOne() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ShardAssignment.shardOf("a", 0));
    assertTrue(e.getMessage().contains("numShards is 0"));
  }
}
