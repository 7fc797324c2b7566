package dev.similarity.flink.demo;

import dev.similarity.flink.index.IdenticalImages;
import dev.similarity.schemas.Neighbour;
import dev.similarity.schemas.NeighbourList;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The contract check reports wrong lists: six products in two tight groups of three (angles 0, 10, 20
 * and 90, 100, 110 degrees on the unit circle), k = 2, so each product's exact top-2 is the other two
 * of its group; a seventh product was removed.
 */
class ListContractTest {

    private static final int K = 2;
    private static final double[] DEGREES = {0, 10, 20, 90, 100, 110};

    private final Map<String, ListContract.Product> live = new HashMap<>();
    private final Map<String, float[]> vectors = new HashMap<>();
    private final Map<String, NeighbourListCollector.Seen> latest = new HashMap<>();

    ListContractTest() {
        for (int i = 0; i < DEGREES.length; i++) {
            double r = Math.toRadians(DEGREES[i]);
            vectors.put("image-" + i, new float[] {(float) Math.cos(r), (float) Math.sin(r)});
            live.put("p" + i, new ListContract.Product("image-" + i, 1));
        }
        for (int i = 0; i < DEGREES.length; i++) {
            int group = i / 3 * 3;
            List<String> others = new ArrayList<>();
            for (int j = group; j < group + 3; j++) if (j != i) others.add("p" + j);
            publish("p" + i, 1, others.toArray(new String[0]));
        }
        latest.put("gone", new NeighbourListCollector.Seen("gone", null, null, 0)); // its tombstone
    }

    private void publish(String product, long version, String... neighbours) {
        List<Neighbour> listed = new ArrayList<>();
        for (String n : neighbours) listed.add(new Neighbour(n, 0.9f, listed.size() + 1));
        NeighbourList list = NeighbourList.newBuilder().setProductId(product).setNeighbours(listed).setModelId("m")
                .setEventTimestamp(0).setComputedTimestamp(0).setCatalogueVersion(version).build();
        latest.put(product, new NeighbourListCollector.Seen(product, list, new byte[1], 0));
    }

    private Map<String, Object> check(int sample) {
        return ListContract.check(live, vectors, Set.of("gone"), latest, K, IdenticalImages.EXCLUDE, sample, 42);
    }

    @Test
    void exactListsPassEveryCheck() {
        assertThat(check(0)).containsEntry("live_products", 6).containsEntry("overlap_sample", 6).containsEntry("mean_overlap", 1.0)
                .containsEntry("lists_naming_removed", 0L).containsEntry("missing_tombstones", 0L).containsEntry("missing_lists", 0L)
                .containsEntry("lists_of_wrong_size", 0L).containsEntry("lists_behind_current_version", 0L)
                .containsEntry("lists_naming_themselves", 0L).containsEntry("lists_repeating_an_image", 0L);
    }

    @Test
    void aListNamingARemovedProductIsCountedAndLosesItsPlace() {
        publish("p0", 1, "p1", "gone");

        Map<String, Object> contract = check(0);

        assertThat(contract).containsEntry("lists_naming_removed", 1L).containsEntry("mean_overlap", ListContract.round4(5.5 / 6));
    }

    @Test
    void theExactNeighboursAListLacksAreReportedForItsProduct() {
        publish("p0", 1, "p1", "p4");
        Map<String, List<String>> missing = new HashMap<>();

        ListContract.check(live, vectors, Set.of("gone"), latest, K, IdenticalImages.EXCLUDE, 0, 42, missing);

        assertThat(missing).containsOnlyKeys("p0").containsEntry("p0", List.of("image-2"));
    }

    @Test
    void aNeighbourFromTheOtherGroupLowersTheOverlap() {
        publish("p0", 1, "p1", "p4");

        assertThat(check(0)).containsEntry("mean_overlap", ListContract.round4(5.5 / 6)).containsEntry("lists_naming_removed", 0L);
    }

    @Test
    void aRemovedProductWithoutTombstoneAStaleListAndAMissingListAreCounted() {
        publish("gone", 1, "p0", "p1");
        live.put("p5", new ListContract.Product("image-5", 2)); // its version-2 event not reflected yet
        publish("p5", 1, "p3", "p4");
        latest.remove("p2");

        Map<String, Object> contract = check(0);

        assertThat(contract).containsEntry("missing_tombstones", 1L).containsEntry("lists_behind_current_version", 1L)
                .containsEntry("missing_lists", 1L).containsEntry("mean_overlap", ListContract.round4(5.0 / 6));
    }

    @Test
    void aListRepeatingAnImageOrNamingItselfIsCounted() {
        live.put("p1-twin", new ListContract.Product("image-1", 1));
        publish("p1-twin", 1, "p0", "p2");
        publish("p0", 1, "p1", "p1-twin");
        publish("p3", 1, "p3", "p4");

        assertThat(check(0)).containsEntry("lists_repeating_an_image", 1L).containsEntry("lists_naming_themselves", 1L);
    }

    @Test
    void aSampleCoversThatManyProductsTheSameOnesForTheSameSeedAndCountsShapesOverAll() {
        publish("p0", 1, "p1", "gone");

        Map<String, Object> sampled = check(3);

        assertThat(sampled).containsEntry("overlap_sample", 3).containsEntry("lists_naming_removed", 1L);
        assertThat(check(3)).isEqualTo(sampled);
        assertThat(ListContract.sample(List.of("a", "b", "c", "d", "e"), 2, 7)).hasSize(2)
                .isEqualTo(ListContract.sample(List.of("a", "b", "c", "d", "e"), 2, 7));
    }

    @Test
    void theClusteredOrderKeepsTheAdditionsInCategoryOrderAndFeedsEveryEvent() {
        List<String> adds = List.of("a-cat0-1", "a-cat0-2", "a-cat1-1", "a-cat2-1");
        List<String> others = List.of("change-1", "removal-1", "change-2");

        List<String> events = CatalogueChurn.mergeAtRandom(adds, others, new Random(1));

        assertThat(events).hasSize(7).containsAll(adds).containsAll(others);
        assertThat(events.stream().filter(adds::contains).toList()).isEqualTo(adds);
    }
}
