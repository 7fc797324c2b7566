package dev.similarity.flink.index;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import java.io.Serializable;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The keys under which shards travel to the shard operator. Keying by the shard number itself lets
 * Flink's hash put several shards, even all of them, on one subtask (shards 0-3 all land on subtask 1
 * of 2 at max parallelism 128). Instead shard s gets the smallest key whose key group is at the
 * centre of the s-th of S equal slices of the key groups, so shards spread evenly over any
 * parallelism. Keys depend only on S and the max parallelism, never on the parallelism, so state
 * stays addressable after rescaling.
 */
public final class ShardRouting implements Serializable {

    private static final long serialVersionUID = 1L;

    private final int[] keyOfShard;
    private final Map<Integer, Integer> shardOfKey = new HashMap<>();

    public ShardRouting(int shards, int maxParallelism) {
        keyOfShard = new int[shards];
        Set<Integer> used = new HashSet<>();
        for (int shard = 0; shard < shards; shard++) {
            int targetGroup = (int) ((shard + 0.5) * maxParallelism / shards);
            int key = 0;
            while (used.contains(key) || KeyGroupRangeAssignment.assignToKeyGroup(key, maxParallelism) != targetGroup) {
                key++;
            }
            used.add(key);
            keyOfShard[shard] = key;
            shardOfKey.put(key, shard);
        }
    }

    public int shardCount() {
        return keyOfShard.length;
    }

    public int keyOf(int shard) {
        return keyOfShard[shard];
    }

    public int shardOf(int key) {
        Integer shard = shardOfKey.get(key);
        if (shard == null) throw new IllegalArgumentException("key " + key + " routes no shard");
        return shard;
    }
}
