package dev.similarity.flink.index;

import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ShardRoutingTest {

    private static Map<Integer, Integer> shardsPerSubtask(int shards, int parallelism) {
        ShardRouting routing = new ShardRouting(shards, 128);
        Map<Integer, Integer> count = new HashMap<>();
        for (int shard = 0; shard < shards; shard++) {
            assertThat(routing.shardOf(routing.keyOf(shard))).isEqualTo(shard);
            count.merge(KeyGroupRangeAssignment.assignKeyToParallelOperator(routing.keyOf(shard), 128, parallelism), 1, Integer::sum);
        }
        return count;
    }

    @Test
    void spreadsShardsEvenlyOverEveryParallelismThatDividesThem() {
        assertThat(shardsPerSubtask(4, 2)).containsExactlyInAnyOrderEntriesOf(Map.of(0, 2, 1, 2));
        assertThat(shardsPerSubtask(4, 4)).containsExactlyInAnyOrderEntriesOf(Map.of(0, 1, 1, 1, 2, 1, 3, 1));
        assertThat(shardsPerSubtask(6, 3)).containsExactlyInAnyOrderEntriesOf(Map.of(0, 2, 1, 2, 2, 2));
        assertThat(shardsPerSubtask(4, 3)).hasSize(3);
    }

    @Test
    void keysDependOnlyOnShardCountAndMaxParallelism() {
        assertThat(new ShardRouting(4, 128).keyOf(3)).isEqualTo(new ShardRouting(4, 128).keyOf(3));
    }
}
