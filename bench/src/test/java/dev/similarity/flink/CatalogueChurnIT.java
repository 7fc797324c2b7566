package dev.similarity.flink;

import dev.similarity.flink.demo.CatalogueChurn;
import dev.similarity.flink.demo.DemoCatalogue;
import dev.similarity.flink.demo.DemoImageServer;
import dev.similarity.flink.demo.DemoRun;
import dev.similarity.kafka.local.LocalKafkaBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The neighbour-list contract while the catalogue changes: 1,000 products, a fifth of them showing one
 * placeholder picture, then 300 additions, 200 image changes (to and away from the placeholder) and 200
 * removals in a shuffled stream; after the job caught up every live product's latest committed list is
 * right (each image named once, no product with the list's own picture, by the default
 * neighbours.identical-images=EXCLUDE; the products with a picture of their own keep the exact
 * neighbours among the distinct images) and every removed product's latest record is a tombstone; the
 * same holds midway, once the job caught up with the first half of the churn; the published index
 * snapshots then hold exactly the live products with their current vectors.
 */
class CatalogueChurnIT {

    @Test
    void listsStayRightThroughAdditionsImageChangesAndRemovalsWithAFifthShowingOnePlaceholder(@TempDir Path work) throws Exception {
        DemoCatalogue catalogue = new DemoCatalogue();
        try (LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build().start();
             DemoImageServer images = new DemoImageServer(catalogue, 0);
             DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, "churn", -1,
                     Map.of(IndexerOptions.SNAPSHOT_INTERVAL.key(), "1 s"))) {
            CatalogueChurn churn = new CatalogueChurn(run, catalogue, images, 0.2);
            churn.load(1_000, 600_000);
            // The churn in two steps; after each the job catches up and the lists committed at that
            // moment are checked on a sample (what scripts/bench-churn's contract checks do).
            List<Map<String, Object>> midChurn = new ArrayList<>();
            churn.churn(300, 200, 200, 0, 42, CatalogueChurn.Order.SHUFFLED, 2, (step, steps) -> {
                CatalogueChurn.CaughtUp caughtUp = churn.awaitCaughtUp(3_000, 300_000);
                assertThat(caughtUp.caughtUp()).as("caught up after step " + step + ": " + caughtUp).isTrue();
                midChurn.add(churn.checkContract(300));
            });
            churn.awaitQuiet(5_000, 300_000);
            System.out.println("contract during the churn: " + midChurn);
            assertThat(midChurn).hasSize(2);
            for (Map<String, Object> check : midChurn) {
                assertThat(check).as("contract check during the churn").containsEntry("overlap_sample", 300)
                        .containsEntry("lists_naming_removed", 0L).containsEntry("missing_lists", 0L)
                        .containsEntry("missing_tombstones", 0L).containsEntry("lists_behind_current_version", 0L);
                assertThat((Double) check.get("mean_overlap")).as(check.toString()).isGreaterThanOrEqualTo(0.95);
            }

            Map<String, Object> contract = churn.checkContract();
            System.out.println("contract after churn: " + contract);
            assertThat(contract).as("contract").containsEntry("live_products", 1_100)
                    .containsEntry("lists_naming_removed", 0L)
                    .containsEntry("missing_tombstones", 0L)
                    .containsEntry("lists_naming_themselves", 0L)
                    .containsEntry("missing_lists", 0L)
                    .containsEntry("lists_behind_current_version", 0L)
                    .containsEntry("lists_of_wrong_size", 0L)
                    .containsEntry("lists_repeating_an_image", 0L)
                    .containsEntry("lists_breaking_the_identical_images_policy", 0L);
            assertThat(churn.placeholderProducts()).as("products showing the placeholder").isBetween(150L, 300L);
            assertThat((Double) contract.get("mean_overlap")).as(contract.toString()).isGreaterThanOrEqualTo(0.95);
            assertThat((Double) contract.get("mean_overlap_unshared_images")).as(contract.toString()).isGreaterThanOrEqualTo(0.99);

            Map<String, Object> snapshots = churn.checkSnapshots(60_000);
            System.out.println("snapshots after churn: " + snapshots);
            assertThat(snapshots).as("published snapshots").containsEntry("snapshot_products", 1_100L)
                    .containsEntry("snapshot_shards_missing", 0L)
                    .containsEntry("snapshot_missing_products", 0L)
                    .containsEntry("snapshot_removed_products", 0L)
                    .containsEntry("snapshot_products_in_wrong_shard", 0L)
                    .containsEntry("snapshot_products_in_two_shards", 0L)
                    .containsEntry("snapshot_stale_vectors", 0L)
                    .containsEntry("snapshot_wrong_image_urls", 0L);
        }
    }
}
