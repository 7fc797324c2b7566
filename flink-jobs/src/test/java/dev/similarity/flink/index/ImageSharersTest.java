package dev.similarity.flink.index;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Only an image's first product makes it a graph node; the rest are members behind it. */
class ImageSharersTest {

    private static final float[] VECTOR = {1f, 0f};
    private static final ShardRouting ROUTING = new ShardRouting(2, 128);
    private KeyedOneInputStreamOperatorTestHarness<String, ImageChange, ShardMessage> harness;

    @BeforeEach
    void open() throws Exception {
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new ImageSharers(ROUTING)), ImageChange::imageKey, Types.STRING);
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        harness.close();
    }

    private void join(String product, long version) throws Exception {
        harness.processElement(new ImageChange("img", ImageChange.Type.JOIN, product, version, VECTOR, "shoes",
                "http://img/" + product, 10), 0L);
    }

    private void leave(String product, long version, boolean removed) throws Exception {
        harness.processElement(new ImageChange("img", removed ? ImageChange.Type.REMOVE : ImageChange.Type.LEAVE,
                product, version, null, null, null, 20), 0L);
    }

    private List<ShardMessage> toShards() {
        List<ShardMessage> out = harness.extractOutputValues();
        harness.getOutput().clear();
        return out;
    }

    private List<ListMessage> toList() {
        List<ListMessage> out = new ArrayList<>();
        for (StreamRecord<ListMessage> record : harness.getSideOutput(ImageSharers.SHARERS)) out.add(record.getValue());
        harness.getSideOutput(ImageSharers.SHARERS).clear();
        return out;
    }

    @Test
    void theFirstProductMakesTheImageANodeOnEveryShardAndLaterOnesAreMembersOfItsOwner() throws Exception {
        join("a", 1);
        List<ShardMessage> first = toShards();
        assertThat(first).hasSize(2).allSatisfy(m -> {
            assertThat(m.type()).isEqualTo(ShardMessage.Type.IMAGE_ADDED);
            assertThat(m.generation()).isEqualTo(1);
            assertThat(m.representative()).isEqualTo("a");
            assertThat(m.member().productId()).isEqualTo("a");
            assertThat(m.vector()).containsExactly(VECTOR);
        });
        assertThat(first).extracting(ShardMessage::shard).containsExactly(0, 1);
        join("b", 1);
        join("c", 1);
        assertThat(toShards()).hasSize(2).allSatisfy(m -> {
            assertThat(m.type()).isEqualTo(ShardMessage.Type.MEMBER_PUT);
            assertThat(m.isOwner()).isTrue();
        });
        assertThat(toList()).extracting(ListMessage::productId, ListMessage::sequence)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("a", 0L), org.assertj.core.groups.Tuple.tuple("b", 1L),
                        org.assertj.core.groups.Tuple.tuple("c", 2L));
    }

    @Test
    void whenTheRepresentativeLeavesTheLongestStandingOtherTakesItsPlaceOnEveryShard() throws Exception {
        join("a", 1);
        join("b", 1);
        join("c", 1);
        toShards();
        leave("c", 2, false);
        assertThat(toShards()).singleElement().satisfies(m -> assertThat(m.type()).isEqualTo(ShardMessage.Type.MEMBER_REMOVED));
        leave("a", 2, true);
        assertThat(toShards()).hasSize(2).allSatisfy(m -> {
            assertThat(m.type()).isEqualTo(ShardMessage.Type.REPRESENTATIVE_CHANGED);
            assertThat(m.representative()).isEqualTo("b");
            assertThat(m.member().productId()).isEqualTo("a");
        });
        toList();
    }

    @Test
    void theLastProductLeavingRemovesTheNodeAndAComebackIsANewGeneration() throws Exception {
        join("a", 1);
        toShards();
        leave("a", 2, false);
        assertThat(toShards()).hasSize(2).allSatisfy(m -> assertThat(m.type()).isEqualTo(ShardMessage.Type.IMAGE_REMOVED));
        assertThat(toList()).extracting(ListMessage::type)
                .containsExactly(ListMessage.Type.SHARER_JOINED, ListMessage.Type.SHARER_LEFT);
        join("b", 1);
        assertThat(toShards()).hasSize(2).allSatisfy(m -> {
            assertThat(m.type()).isEqualTo(ShardMessage.Type.IMAGE_ADDED);
            assertThat(m.generation()).isEqualTo(2);
        });
    }

    @Test
    void aRemovedProductThatNeverShowedTheImageStillGetsItsTombstoneAndChangesNothing() throws Exception {
        leave("ghost", 3, true);
        assertThat(toShards()).isEmpty();
        assertThat(toList()).singleElement().satisfies(m -> {
            assertThat(m.type()).isEqualTo(ListMessage.Type.SHARER_REMOVED);
            assertThat(m.productVersion()).isEqualTo(3);
        });
    }

    @Test
    void aSharerWithANewCategoryUpdatesItsMemberAndKeepsItsPlace() throws Exception {
        join("a", 1);
        join("b", 1);
        toShards();
        toList();
        harness.processElement(new ImageChange("img", ImageChange.Type.JOIN, "a", 2, VECTOR, "boots", "http://img/a", 30), 0L);
        assertThat(toShards()).singleElement().satisfies(m -> {
            assertThat(m.type()).isEqualTo(ShardMessage.Type.MEMBER_PUT);
            assertThat(m.member().category()).isEqualTo("boots");
            assertThat(m.member().sequence()).isEqualTo(0);
        });
        assertThat(toList()).singleElement().satisfies(m -> assertThat(m.productVersion()).isEqualTo(2));
    }
}
