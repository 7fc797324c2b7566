package dev.similarity.flink;

import dev.similarity.flink.catalogue.CatalogueFileImport;
import dev.similarity.flink.demo.CatalogueChurn;
import dev.similarity.flink.demo.DemoCatalogue;
import dev.similarity.flink.demo.DemoImageServer;
import dev.similarity.flink.demo.DemoRun;
import dev.similarity.flink.demo.NeighbourListCollector;
import dev.similarity.kafka.local.LocalKafkaBroker;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.Neighbour;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A catalogue export in an Avro container file, written with an older producer schema (no embedding,
 * no attributes), loaded with {@code scripts/import-catalogue} into the topic of a job on a mini-cluster
 * and a real broker: the job indexes every product, removes the one the file removes, keeps the newest of
 * a product's two versions, and sends the one invalid event to the dead letters. Importing the same file
 * again publishes nothing new.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CatalogueFileImportIT {

    private static final int PRODUCTS = 300;
    private static final int K = 10;

    @TempDir
    static Path work;

    private LocalKafkaBroker broker;
    private DemoImageServer images;
    private DemoRun run;
    private DemoCatalogue catalogue;
    private Configuration importOptions;
    private Path export;
    private CatalogueFileImport.Result first;
    private Map<String, Integer> listsAfterFirstImport;

    @BeforeAll
    void importAnExport() throws Exception {
        broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build();
        broker.start();
        catalogue = new DemoCatalogue();
        images = new DemoImageServer(catalogue, 0);
        run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, "import", -1, Map.of());
        export = writeExport(work.resolve("catalogue.avro"));
        importOptions = new Configuration();
        importOptions.set(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS, broker.bootstrapServers());
        importOptions.set(IndexerOptions.CATALOGUE_TOPIC, run.config().get(IndexerOptions.CATALOGUE_TOPIC));

        first = CatalogueFileImport.run(List.of(export), importOptions, false);

        long deadline = System.currentTimeMillis() + 300_000;
        while (System.currentTimeMillis() < deadline && (withList() < PRODUCTS - 1 || run.deadLetters().records() < 1)) {
            Thread.sleep(250);
        }
        CatalogueChurn churn = new CatalogueChurn(run, catalogue, images);
        churn.awaitQuiet(3_000, 60_000);
        listsAfterFirstImport = listsPublished();
        CatalogueFileImport.run(List.of(export), importOptions, false);
        deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline && run.deadLetters().records() < 2) Thread.sleep(250);
        churn.awaitQuiet(3_000, 60_000);
    }

    @AfterAll
    void stop() throws Exception {
        if (run != null) run.close();
        if (images != null) images.close();
        if (broker != null) broker.close();
    }

    /** The job's schema as a producer of an older version wrote it: no embedding, no attributes. */
    private static Schema olderSchema() {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : CatalogueEvent.getClassSchema().getFields()) {
            if (!f.name().equals("embedding") && !f.name().equals("attributes")) fields.add(new Schema.Field(f, f.schema()));
        }
        Schema current = CatalogueEvent.getClassSchema();
        return Schema.createRecord(current.getName(), null, current.getNamespace(), false, fields);
    }

    /**
     * Products 0..PRODUCTS-1 at version 1; product 1 again at version 2 with product 2's picture; product 0
     * removed at version 2; one event without an image URL.
     */
    private Path writeExport(Path file) throws Exception {
        Schema older = olderSchema();
        try (DataFileWriter<GenericRecord> writer = new DataFileWriter<>(new GenericDatumWriter<GenericRecord>(older))) {
            writer.setSyncInterval(4_096); // several blocks
            writer.create(older, file.toFile());
            for (int n = 0; n < PRODUCTS; n++) writer.append(event(older, catalogue.productId(n), "UPSERTED", images.imageUrl(n), 1, n));
            writer.append(event(older, catalogue.productId(1), "IMAGE_CHANGED", images.imageUrl(2), 2, 1));
            writer.append(event(older, catalogue.productId(0), "REMOVED", null, 2, 0));
            writer.append(event(older, "no-image", "UPSERTED", null, 1, 0));
        }
        return file;
    }

    private GenericRecord event(Schema older, String productId, String kind, String imageUrl, long version, int n) {
        long now = System.currentTimeMillis();
        return new GenericRecordBuilder(older)
                .set("eventId", productId + "@" + version)
                .set("timestamp", now)
                .set("clientTimestamp", now)
                .set("productId", productId)
                .set("kind", new GenericData.EnumSymbol(older.getField("kind").schema(), kind))
                .set("catalogueVersion", version)
                .set("imageUrl", imageUrl)
                .set("categoryPath", List.of(catalogue.category(n)))
                .build();
    }

    @Test
    void everyEventOfTheFileIsSentAndTheInvalidOneIsNamed() {
        assertThat(first.read()).isEqualTo(PRODUCTS + 3);
        assertThat(first.sent()).isEqualTo(PRODUCTS + 3);
        assertThat(first.byKind()).containsEntry("UPSERTED", (long) PRODUCTS + 1).containsEntry("IMAGE_CHANGED", 1L)
                .containsEntry("REMOVED", 1L);
        assertThat(first.refused()).isEqualTo(1);
        assertThat(first.examples().values()).singleElement().asList().containsExactly("no-image");
    }

    @Test
    void everyLiveProductOfTheFileGetsAListOfKAndTheRemovedOneNone() {
        Map<String, NeighbourListCollector.Seen> latest = run.lists().latest();
        for (int n = 1; n < PRODUCTS; n++) {
            String id = catalogue.productId(n);
            assertThat(latest.get(id)).as("list of %s", id).isNotNull();
            assertThat(latest.get(id).list().getNeighbours()).as("neighbours of %s", id).hasSize(K)
                    .extracting(Neighbour::getProductId).doesNotContain(id, catalogue.productId(0), "no-image");
        }
        NeighbourListCollector.Seen removed = latest.get(catalogue.productId(0));
        assertThat(removed == null || removed.list() == null).as("product 0 is removed: no list or a tombstone").isTrue();
    }

    @Test
    void aProductsNewestVersionInTheFileWins() {
        // Product 1 shows product 2's picture at version 2: one image, so one list, without each other
        // (neighbours.identical-images EXCLUDE). Had version 1 won, product 1's list would be its own picture's.
        Map<String, NeighbourListCollector.Seen> latest = run.lists().latest();
        List<String> ofOne = latest.get(catalogue.productId(1)).list().getNeighbours().stream().map(Neighbour::getProductId).toList();
        List<String> ofTwo = latest.get(catalogue.productId(2)).list().getNeighbours().stream().map(Neighbour::getProductId).toList();
        assertThat(ofOne).doesNotContain(catalogue.productId(2)).containsExactlyElementsOf(ofTwo);
    }

    @Test
    void theInvalidEventIsADeadLetterWithItsReason() throws Exception {
        AvroRecordCodec<DeadLetter> codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        List<DeadLetter> letters = new ArrayList<>();
        for (String key : run.deadLetters().keysSeen()) {
            for (NeighbourListCollector.Seen seen : run.deadLetters().history(key)) letters.add(codec.decode(seen.value()));
        }
        assertThat(letters).isNotEmpty().allSatisfy(letter -> {
            assertThat(letter.getProductId()).isEqualTo("no-image");
            assertThat(letter.getErrorMessage()).contains("imageUrl");
        });
    }

    @Test
    void importingTheSameFileAgainPublishesNoList() {
        assertThat(listsPublished()).isEqualTo(listsAfterFirstImport);
    }

    private Map<String, Integer> listsPublished() {
        Map<String, Integer> counts = new HashMap<>();
        for (String key : run.lists().keysSeen()) counts.put(key, run.lists().history(key).size());
        return counts;
    }

    private int withList() {
        Map<String, NeighbourListCollector.Seen> latest = run.lists().latest();
        int done = 0;
        for (int n = 1; n < PRODUCTS; n++) {
            if (latest.containsKey(catalogue.productId(n))) done++;
        }
        return done;
    }
}
