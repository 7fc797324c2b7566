package dev.similarity.flink.index;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

/** The gather keyed by image: one list per distinct image, published for every product showing it. */
class NeighbourListFunctionTest {

    private KeyedOneInputStreamOperatorTestHarness<String, ListMessage, NeighbourListUpdate> harness;

    private void open(IdenticalImages policy) throws Exception {
        harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new NeighbourListFunction(2, 1, policy)), ListMessage::target, Types.STRING);
        harness.open();
    }

    @AfterEach
    void close() throws Exception {
        if (harness != null) harness.close();
    }

    private void send(ListMessage message) throws Exception {
        harness.processElement(message, 0L);
    }

    private List<NeighbourListUpdate> published() {
        List<NeighbourListUpdate> out = harness.extractOutputValues();
        harness.getOutput().clear();
        return out;
    }

    /** Partial lists sent so far per image and generation: the next comes from the next shard. */
    private final java.util.Map<String, Integer> partialsSent = new java.util.HashMap<>();

    private void partial(String image, long generation, int shards, String[] ids, float[] scores, long at) throws Exception {
        int shard = partialsSent.merge(image + "@" + generation, 1, Integer::sum) - 1;
        partialFrom(shard % shards, image, generation, shards, ids, scores, at);
    }

    private void partialFrom(int shard, String image, long generation, int shards, String[] ids, float[] scores, long at)
            throws Exception {
        String[] representatives = new String[ids.length];
        for (int i = 0; i < ids.length; i++) representatives[i] = "rep-of-" + ids[i];
        send(ListMessage.partial(image, generation, shards, shard, ids, representatives, scores, at));
    }

    /** A batch searched again after a restore sends its partial lists again: the list waits for the other shard. */
    @Test
    void aPartialListSentTwiceByOneShardDoesNotCompleteTheList() throws Exception {
        open(IdenticalImages.EXCLUDE);
        send(ListMessage.sharerJoined("img", 1, "a", 4, 0, 90));
        partialFrom(0, "img", 1, 2, new String[]{"x"}, new float[]{0.9f}, 100);
        partialFrom(0, "img", 1, 2, new String[]{"y"}, new float[]{0.8f}, 101);
        assertThat(published()).as("one shard of two answered, twice").isEmpty();
        partialFrom(1, "img", 1, 2, new String[]{"z"}, new float[]{0.7f}, 102);
        List<NeighbourListUpdate> lists = published();
        assertThat(lists).hasSize(1);
        assertThat(lists.get(0).neighbourIds()).as("the top 2 (k), both from shard 0's two answers")
                .containsExactly("rep-of-x", "rep-of-y");
    }

    @Test
    void publishesOnceEveryShardHasAnsweredToEveryProductShowingTheImage() throws Exception {
        open(IdenticalImages.EXCLUDE);
        send(ListMessage.sharerJoined("img", 1, "a", 4, 0, 90));
        send(ListMessage.sharerJoined("img", 1, "b", 7, 1, 95));
        partial("img", 1, 2, new String[] {"x", "y"}, new float[] {0.9f, 0.5f}, 100);
        assertThat(published()).isEmpty();
        partial("img", 1, 2, new String[] {"z"}, new float[] {0.7f}, 100);
        assertThat(published()).extracting(NeighbourListUpdate::productId, u -> List.of(u.neighbourIds()), NeighbourListUpdate::catalogueVersion)
                .containsExactlyInAnyOrder(tuple("a", List.of("rep-of-x", "rep-of-z"), 4L), tuple("b", List.of("rep-of-x", "rep-of-z"), 7L));
    }

    @Test
    void aProductJoiningAnImageWithAListGetsItAtOnceAndNobodyElseIsRepublished() throws Exception {
        open(IdenticalImages.EXCLUDE);
        send(ListMessage.sharerJoined("img", 1, "a", 1, 0, 90));
        partial("img", 1, 1, new String[] {"x", "y"}, new float[] {0.9f, 0.5f}, 100);
        published();
        send(ListMessage.sharerJoined("img", 1, "b", 3, 1, 200));
        assertThat(published()).singleElement().satisfies(u -> {
            assertThat(u.productId()).isEqualTo("b");
            assertThat(u.neighbourIds()).containsExactly("rep-of-x", "rep-of-y");
            assertThat(u.catalogueVersion()).isEqualTo(3);
            assertThat(u.eventTimestamp()).isEqualTo(200);
        });
    }

    @Test
    void aBetterNewImageEntersThePublishedListAndAWorseOneChangesNothing() throws Exception {
        open(IdenticalImages.EXCLUDE);
        send(ListMessage.sharerJoined("img", 1, "a", 1, 0, 90));
        partial("img", 1, 1, new String[] {"x", "y", "z"}, new float[] {0.9f, 0.5f, 0.4f}, 100);
        published();
        send(ListMessage.candidate("img", 1, "far", "far-rep", 0.1f, 200));
        assertThat(published()).isEmpty();
        send(ListMessage.candidate("img", 1, "near", "near-rep", 0.95f, 300));
        assertThat(published()).singleElement().satisfies(u -> {
            assertThat(u.neighbourIds()).containsExactly("near-rep", "rep-of-x");
            assertThat(u.eventTimestamp()).isEqualTo(300);
        });
    }

    /** A batch sends one image's candidates in one message: the list is as if they came one by one. */
    @Test
    void candidatesSentTogetherRankAsIfSentOneByOne() throws Exception {
        open(IdenticalImages.EXCLUDE);
        send(ListMessage.sharerJoined("img", 1, "a", 1, 0, 90));
        partial("img", 1, 1, new String[] {"x", "y", "z"}, new float[] {0.9f, 0.5f, 0.4f}, 100);
        published();
        send(ListMessage.candidates("img", 1, new String[] {"far", "further"}, new String[] {"far-rep", "further-rep"},
                new float[] {0.1f, 0.05f}, 200));
        assertThat(published()).as("none ranks").isEmpty();
        send(ListMessage.candidates("img", 1, new String[] {"far", "near", "nearer"},
                new String[] {"far-rep", "near-rep", "nearer-rep"}, new float[] {0.1f, 0.6f, 0.95f}, 300));
        assertThat(published()).singleElement().satisfies(u -> {
            assertThat(u.neighbourIds()).containsExactly("nearer-rep", "rep-of-x");
            assertThat(u.eventTimestamp()).isEqualTo(300);
        });
        send(ListMessage.drop("img", "nearer", 400));
        assertThat(published()).as("the message's other ranking candidate was kept in the reserve")
                .singleElement().satisfies(u -> assertThat(u.neighbourIds()).containsExactly("rep-of-x", "near-rep"));
        send(ListMessage.candidates("img", 0, new String[] {"stale"}, new String[] {"s"}, new float[] {0.99f}, 500));
        assertThat(published()).as("scored for another generation").isEmpty();
    }

    @Test
    void aCandidatesMessageNeedsParallelNonEmptyArrays() {
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException().isThrownBy(() -> ListMessage.candidates(
                "img", 1, new String[] {"a"}, new String[] {"a", "b"}, new float[] {0.5f}, 0));
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException().isThrownBy(() -> ListMessage.candidates(
                "img", 1, new String[0], new String[0], new float[0], 0));
        harness = null;
    }

    @Test
    void aCandidateScoredForAnotherGenerationOfTheImageIsIgnored() throws Exception {
        open(IdenticalImages.EXCLUDE);
        send(ListMessage.sharerJoined("img", 2, "a", 1, 0, 90));
        partial("img", 2, 1, new String[] {"x", "y"}, new float[] {0.9f, 0.5f}, 100);
        published();
        send(ListMessage.candidate("img", 1, "stale", "s", 0.99f, 200));
        assertThat(published()).isEmpty();
        send(ListMessage.candidate("img", 2, "fresh", "f", 0.99f, 300));
        assertThat(published()).singleElement().satisfies(u -> assertThat(u.neighbourIds()).containsExactly("f", "rep-of-x"));
    }

    @Test
    void aDroppedImageIsReplacedFromTheReserveAndANewRepresentativeRenamesIt() throws Exception {
        open(IdenticalImages.EXCLUDE);
        send(ListMessage.sharerJoined("img", 1, "a", 1, 0, 90));
        partial("img", 1, 1, new String[] {"x", "y", "z"}, new float[] {0.9f, 0.5f, 0.4f}, 100);
        published();
        send(ListMessage.drop("img", "x", 200));
        assertThat(published()).singleElement().satisfies(u -> assertThat(u.neighbourIds()).containsExactly("rep-of-y", "rep-of-z"));
        send(ListMessage.drop("img", "nobody", 300));
        assertThat(published()).isEmpty();
        send(ListMessage.replace("img", "z", "next-of-z", 400));
        assertThat(published()).singleElement().satisfies(u -> assertThat(u.neighbourIds()).containsExactly("rep-of-y", "next-of-z"));
    }

    @Test
    void aRemovedProductGetsATombstoneAndSoDoesOneNeverIndexed() throws Exception {
        open(IdenticalImages.EXCLUDE);
        send(ListMessage.sharerJoined("img", 1, "a", 1, 0, 90));
        send(ListMessage.sharerJoined("img", 1, "b", 1, 1, 90));
        partial("img", 1, 1, new String[] {"x"}, new float[] {0.9f}, 100);
        published();
        send(ListMessage.sharerLeft("img", 1, "a", 2, true, 200));
        assertThat(published()).singleElement().satisfies(u -> {
            assertThat(u.productId()).isEqualTo("a");
            assertThat(u.removed()).isTrue();
            assertThat(u.catalogueVersion()).isEqualTo(2);
        });
        send(ListMessage.candidate("img", 1, "near", "near-rep", 0.95f, 300));
        assertThat(published()).as("only b shows the image now").extracting(NeighbourListUpdate::productId).containsExactly("b");
        send(ListMessage.sharerLeft("never-indexed", 0, "ghost", 3, true, 400));
        assertThat(published()).singleElement().satisfies(u -> assertThat(u.removed()).isTrue());
    }

    @Test
    void whenTheLastProductLeavesLateMessagesOfThatGenerationAreIgnoredAndTheNextStartsClean() throws Exception {
        open(IdenticalImages.EXCLUDE);
        send(ListMessage.sharerJoined("img", 1, "a", 1, 0, 90));
        partial("img", 1, 2, new String[] {"x"}, new float[] {0.9f}, 100);
        send(ListMessage.sharerLeft("img", 1, "a", 2, false, 150));
        partial("img", 1, 2, new String[] {"late"}, new float[] {0.99f}, 100);
        send(ListMessage.candidate("img", 1, "late-candidate", "l", 0.99f, 160));
        assertThat(published()).isEmpty();

        send(ListMessage.sharerJoined("img", 2, "b", 5, 1, 200));
        partial("img", 2, 1, new String[] {"y"}, new float[] {0.5f}, 210);
        assertThat(published()).singleElement().satisfies(u -> {
            assertThat(u.productId()).isEqualTo("b");
            assertThat(u.neighbourIds()).containsExactly("rep-of-y");
        });
    }

    @Test
    void aNewGenerationsPartialOvertakingTheOldOnesEndIsKept() throws Exception {
        open(IdenticalImages.EXCLUDE);
        send(ListMessage.sharerJoined("img", 1, "a", 1, 0, 90));
        partial("img", 2, 1, new String[] {"y"}, new float[] {0.5f}, 210); // generation 2 already searched
        send(ListMessage.sharerLeft("img", 1, "a", 2, false, 150));        // generation 1 ends only now
        send(ListMessage.sharerJoined("img", 2, "b", 5, 1, 200));
        assertThat(published()).filteredOn(u -> u.productId().equals("b"))
                .singleElement().satisfies(u -> assertThat(u.neighbourIds()).containsExactly("rep-of-y"));
    }

    @Test
    void collapseShowsTheLongestStandingTwinFirstAndMovesOnWhenItLeaves() throws Exception {
        open(IdenticalImages.COLLAPSE);
        send(ListMessage.sharerJoined("img", 1, "a", 1, 0, 90));
        send(ListMessage.sharerJoined("img", 1, "b", 1, 1, 90));
        send(ListMessage.sharerJoined("img", 1, "c", 1, 2, 90));
        partial("img", 1, 1, new String[] {"x", "y"}, new float[] {0.9f, 0.5f}, 100);
        assertThat(published()).extracting(NeighbourListUpdate::productId, u -> List.of(u.neighbourIds()))
                .containsExactlyInAnyOrder(tuple("a", List.of("b", "rep-of-x")), tuple("b", List.of("a", "rep-of-x")),
                        tuple("c", List.of("a", "rep-of-x")));
        send(ListMessage.sharerLeft("img", 1, "a", 2, true, 200));
        assertThat(published()).extracting(NeighbourListUpdate::productId, u -> u.removed() ? "tombstone" : List.of(u.neighbourIds()))
                .containsExactlyInAnyOrder(tuple("a", "tombstone"), tuple("b", List.of("c", "rep-of-x")), tuple("c", List.of("b", "rep-of-x")));
    }

    @Test
    void firstShowsUpToKTwinsBeforeOtherImagesAndExcludeNone() throws Exception {
        open(IdenticalImages.FIRST);
        send(ListMessage.sharerJoined("img", 1, "a", 1, 0, 90));
        partial("img", 1, 1, new String[] {"x", "y"}, new float[] {0.9f, 0.5f}, 100);
        assertThat(published()).singleElement().satisfies(u -> assertThat(u.neighbourIds()).containsExactly("rep-of-x", "rep-of-y"));
        send(ListMessage.sharerJoined("img", 1, "b", 1, 1, 200));
        assertThat(published()).extracting(NeighbourListUpdate::productId, u -> List.of(u.neighbourIds()))
                .containsExactlyInAnyOrder(tuple("a", List.of("b", "rep-of-x")), tuple("b", List.of("a", "rep-of-x")));
        send(ListMessage.sharerJoined("img", 1, "c", 1, 2, 300));
        assertThat(published()).extracting(NeighbourListUpdate::productId, u -> List.of(u.neighbourIds()))
                .containsExactlyInAnyOrder(tuple("a", List.of("b", "c")), tuple("b", List.of("a", "c")), tuple("c", List.of("a", "b")));
        assertThat(published()).isEmpty();
    }
}
