package dev.similarity.flink.index;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.index.ImageMember;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.SnapshotStore;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** One shard's members when the messages about a product's two images cross. */
class ShardIndexFunctionTest {

    private static final ShardRouting ROUTING = new ShardRouting(1, 128);

    @TempDir Path work;

    private static ShardMessage message(ShardMessage.Type type, String image, float[] vector, ImageMember member) {
        return new ShardMessage(ROUTING.keyOf(0), 0, 1, 0, type, image, 1, vector, member == null ? null : member.productId(),
                member, 0);
    }

    @Test
    void everyListerOfALeavingImageGetsItsDropWhetherRecordedNowOrInTheSetsOfAnEarlierVersion() throws Exception {
        IndexerConfig config = IndexerConfig.from(Map.of(IndexerOptions.SNAPSHOT_DIR.key(), work.toUri().toString(),
                IndexerOptions.SHARDS.key(), "1"));
        ShardIndexFunction function = new ShardIndexFunction(config, ROUTING, 2, "test-model@1");
        try (var harness = new KeyedOneInputStreamOperatorTestHarness<>(new ShardIndexOperator(function),
                ShardMessage::routingKey, Types.INT)) {
            harness.open();
            harness.processElement(message(ShardMessage.Type.IMAGE_ADDED, "a", new float[] {1f, 0f},
                    new ImageMember("pa", "a", 0, null, null)), 0);
            // b's partial list names a: b is recorded as a's lister, twice after a second search of b.
            harness.processElement(message(ShardMessage.Type.IMAGE_ADDED, "b", new float[] {0.8f, 0.6f},
                    new ImageMember("pb", "b", 0, null, null)), 0);
            harness.processElement(message(ShardMessage.Type.IMAGE_ADDED, "b", new float[] {0.8f, 0.6f},
                    new ImageMember("pb", "b", 0, null, null)), 0);
            harness.getOperator().setCurrentKey(ROUTING.keyOf(0));
            function.addListersAsSets("a", java.util.List.of("z")); // state written before ListedBy
            harness.getOutput().clear();
            harness.processElement(message(ShardMessage.Type.IMAGE_REMOVED, "a", null, new ImageMember("pa", "a", 0, null, null)), 0);
            java.util.List<String> dropped = harness.extractOutputValues().stream()
                    .filter(m -> m.type() == ListMessage.Type.DROP && m.candidateId().equals("a"))
                    .map(ListMessage::target).toList();
            assertThat(dropped).containsExactlyInAnyOrder("b", "z");

            harness.getOutput().clear();
            harness.processElement(message(ShardMessage.Type.IMAGE_ADDED, "a", new float[] {1f, 0f},
                    new ImageMember("pa", "a", 0, null, null)), 0);
            harness.processElement(message(ShardMessage.Type.IMAGE_REMOVED, "a", null, new ImageMember("pa", "a", 0, null, null)), 0);
            assertThat(harness.extractOutputValues()).as("the records left with the image")
                    .noneMatch(m -> m.type() == ListMessage.Type.DROP && m.target().equals("z"));
        }
    }

    @Test
    void aProductPutIntoItsNewImageBeforeItLeavesTheOldOneStaysInTheNewOne() throws Exception {
        IndexerConfig config = IndexerConfig.from(Map.of(IndexerOptions.SNAPSHOT_DIR.key(), work.toUri().toString(),
                IndexerOptions.SHARDS.key(), "1", IndexerOptions.SNAPSHOT_INTERVAL.key(), "1 ms"));
        try (var harness = new KeyedOneInputStreamOperatorTestHarness<>(new ShardIndexOperator(
                new ShardIndexFunction(config, ROUTING, 2, "test-model@1")), ShardMessage::routingKey, Types.INT)) {
            harness.open();
            float[] old = {1f, 0f};
            float[] fresh = {0f, 1f};
            harness.processElement(message(ShardMessage.Type.IMAGE_ADDED, "old", old, new ImageMember("a", "old", 0, null, null)), 0);
            harness.processElement(message(ShardMessage.Type.MEMBER_PUT, "old", null, new ImageMember("x", "old", 1, "xs", null)), 0);
            harness.processElement(message(ShardMessage.Type.IMAGE_ADDED, "new", fresh, new ImageMember("b", "new", 0, null, null)), 0);
            // x moved from "old" to "new": the put into "new" overtakes the removal from "old".
            harness.processElement(message(ShardMessage.Type.MEMBER_PUT, "new", null, new ImageMember("x", "new", 1, "xs", null)), 0);
            harness.processElement(message(ShardMessage.Type.MEMBER_REMOVED, "old", null, new ImageMember("x", "old", 1, "xs", null)), 0);
            harness.snapshot(1, 0);
            harness.notifyOfCompletedCheckpoint(1);
            SnapshotStore store = SnapshotStore.at(config.snapshotDir());
            long deadline = System.currentTimeMillis() + 30_000;
            while (store.latest(0).isEmpty() && System.currentTimeMillis() < deadline) Thread.sleep(20);
            try (ShardSnapshot snapshot = ShardSnapshot.load(store, store.latest(0).orElseThrow())) {
                // x is the only product of category xs: the image it shows now is found through it.
                assertThat(snapshot.search(fresh, 5, "xs", null, 10)).singleElement()
                        .satisfies(hit -> assertThat(hit.productId()).isEqualTo("x"));
                assertThat(snapshot.search(old, 1, "xs", null, 10)).singleElement()
                        .satisfies(hit -> assertThat(hit.score()).isCloseTo(0f, org.assertj.core.data.Offset.offset(1e-6f)));
            }
        }
    }
}
