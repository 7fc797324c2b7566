package dev.similarity.flink;

import dev.similarity.flink.demo.CatalogueChurn;
import dev.similarity.flink.demo.CatalogueFeeder;
import dev.similarity.flink.demo.NeighbourListCollector;
import dev.similarity.flink.demo.RunSummary;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.Neighbour;
import dev.similarity.schemas.NeighbourList;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole path on real parts: a Kafka 4.1 broker in a child JVM, the job on a Flink mini-cluster
 * with RocksDB and exactly-once checkpoints, the committed model, Fashion-MNIST PNGs over HTTP.
 * Feeds 2,000 products plus four bad records and checks what a read_committed consumer sees.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamingIndexerIT {

    private static final int PRODUCTS = 2_000;
    private static final int K = 10;

    @TempDir
    static Path work;

    private LoopbackJob job;
    private RunSummary summary;
    private CatalogueChurn churn;
    private byte[] malformed;

    @BeforeAll
    void runThePipeline() throws Exception {
        job = LoopbackJob.start(work, "it", Map.of());
        String corruptUrl = job.images.put("/corrupt.png", Arrays.copyOf(job.catalogue.png(0), 40));
        try (CatalogueFeeder feeder = new CatalogueFeeder(job.broker.bootstrapServers(),
                job.run.config().get(IndexerOptions.CATALOGUE_TOPIC), AvroWireFormat.NAKED_BINARY)) {
            malformed = "this is not an Avro catalogue event".getBytes(StandardCharsets.UTF_8);
            feeder.sendRaw("malformed", malformed);
            feeder.upsert("unreachable", job.images.baseUrl() + "/missing.png", "Bag", 1, false);
            feeder.upsert("refused", "http://127.0.0.1:1/nothing.png", "Bag", 1, false);
            feeder.upsert("corrupt", corruptUrl, "Bag", 1, false);
            feeder.flush();
        }
        churn = new CatalogueChurn(job.run, job.catalogue, job.images);
        summary = churn.load(PRODUCTS, 600_000);
        waitFor(() -> job.run.deadLetters().records() >= 4, 120_000);
        churn.awaitQuiet(5_000, 120_000);
    }

    @AfterAll
    void stop() throws Exception {
        if (job != null) job.close();
    }

    @Test
    void everyProductGetsACommittedListOfKNeighboursNeverItself() {
        assertThat(summary.get("products_with_list")).isEqualTo(PRODUCTS);
        Map<String, NeighbourListCollector.Seen> latest = job.run.lists().latest();
        for (int n = 0; n < PRODUCTS; n++) {
            String id = job.catalogue.productId(n);
            NeighbourList list = latest.get(id).list();
            assertThat(list).as("latest list of %s", id).isNotNull();
            assertThat(list.getNeighbours()).as("neighbours of %s", id).hasSize(K);
            assertThat(list.getNeighbours()).extracting(Neighbour::getProductId)
                    .doesNotContain(id, "unreachable", "refused", "corrupt").doesNotHaveDuplicates();
            assertThat(list.getNeighbours()).extracting(Neighbour::getRank).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        }
    }

    @Test
    void noListUpdateIsCommittedTwice() {
        assertThat(job.run.lists().repeatedUpdates()).as("list updates committed more than once").isEmpty();
    }

    @Test
    void listsOverlapTheExactTopKOfTheSameVectors() throws Exception {
        Map<String, Object> contract = churn.checkContract();
        System.out.println("contract after loading: " + contract);
        assertThat((Double) contract.get("mean_overlap")).as(contract.toString()).isGreaterThanOrEqualTo(0.95);
        assertThat(contract.get("lists_of_wrong_size")).as(contract.toString()).isEqualTo(0L);
    }

    @Test
    void precisionAtTenAgainstTheLabelsIsAtLeast080() {
        assertThat((Double) summary.get("precision_at_10")).isGreaterThanOrEqualTo(0.80);
    }

    @Test
    void badRecordsLandInTheDeadLetterTopicWithTheirReason() throws Exception {
        AvroRecordCodec<DeadLetter> codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        Map<String, DeadLetter> byReason = new HashMap<>();
        for (NeighbourListCollector.Seen seen : job.run.deadLetters().latest().values()) {
            for (NeighbourListCollector.Seen s : job.run.deadLetters().history(seen.productId())) {
                DeadLetter letter = codec.decode(s.value());
                byReason.put(letter.getReason().name(), letter);
            }
        }
        assertThat(byReason).containsOnlyKeys("MALFORMED_RECORD", "IMAGE_UNREACHABLE", "IMAGE_URL_REFUSED", "IMAGE_UNDECODABLE");
        assertThat(byReason.get("MALFORMED_RECORD").getOriginalValue().array()).isEqualTo(malformed);
        assertThat(byReason.get("MALFORMED_RECORD").getSourceOffset()).isNotNull();
        assertThat(byReason.get("IMAGE_UNREACHABLE").getProductId()).isEqualTo("unreachable");
        assertThat(byReason.get("IMAGE_UNREACHABLE").getErrorMessage()).contains("[HTTP_CLIENT_ERROR]", "404");
        assertThat(byReason.get("IMAGE_URL_REFUSED").getProductId()).isEqualTo("refused");
        assertThat(byReason.get("IMAGE_URL_REFUSED").getErrorMessage()).contains("[PORT_REFUSED]", "127.0.0.1:1");
        assertThat(byReason.get("IMAGE_UNDECODABLE").getProductId()).isEqualTo("corrupt");
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) Thread.sleep(200);
    }

}
