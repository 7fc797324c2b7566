package dev.similarity.flink;

import dev.similarity.flink.catalogue.CatalogueFileImport;
import dev.similarity.flink.demo.CatalogueChurn;
import dev.similarity.flink.demo.NeighbourListCollector;
import dev.similarity.index.snapshot.StoreFileSystems;
import dev.similarity.s3.local.LocalS3Server;
import dev.similarity.schemas.WriterSchemas;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.Neighbour;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FileSystem;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A catalogue export in an Avro container file, written with an older producer schema (before events
 * carried embeddings), its events an hour old as an export's are, loaded with {@code scripts/import-catalogue} into the topic
 * of a job on a mini-cluster and a real broker: the job indexes every product, removes the one the file
 * removes, keeps the newest of a product's two versions (written first), and sends the one invalid event
 * to the dead letters. Importing the same file again publishes no list.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CatalogueFileImportIT {

    private static final int PRODUCTS = 300;
    private static final int K = 10;

    @TempDir
    static Path work;

    private LoopbackJob job;
    private Configuration importOptions;
    private Path export;
    private CatalogueFileImport.Result first;
    private CatalogueFileImport.Result second;
    private Map<String, Integer> listsAfterFirstImport;

    @BeforeAll
    void importAnExport() throws Exception {
        job = LoopbackJob.start(work, "import", Map.of());
        export = writeExport(work.resolve("catalogue.avro"));
        importOptions = new Configuration();
        importOptions.set(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS, job.broker.bootstrapServers());
        importOptions.set(IndexerOptions.CATALOGUE_TOPIC, job.run.config().get(IndexerOptions.CATALOGUE_TOPIC));

        first = CatalogueFileImport.run(CatalogueFileImport.containerFiles(export.toString()), importOptions, false, line -> { });

        long deadline = System.currentTimeMillis() + 300_000;
        while (System.currentTimeMillis() < deadline && (withList() < PRODUCTS - 1 || job.run.deadLetters().records() < 1)) {
            Thread.sleep(250);
        }
        CatalogueChurn churn = new CatalogueChurn(job.run, job.catalogue, job.images);
        churn.awaitQuiet(3_000, 60_000);
        listsAfterFirstImport = listsPublished();
        second = CatalogueFileImport.run(CatalogueFileImport.containerFiles(export.toString()), importOptions, false, line -> { });
        deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline && job.run.deadLetters().records() < 2) Thread.sleep(250);
        churn.awaitQuiet(3_000, 60_000);
    }

    @AfterAll
    void stop() throws Exception {
        if (job != null) job.close();
    }

    /**
     * Products 0..PRODUCTS-1 at version 1, their events an hour old as an export's are; product 1 at version 2 with product 2's picture, written before its version 1; product 0
     * removed at version 2; one event without an image URL.
     */
    private Path writeExport(Path file) throws Exception {
        Schema older = WriterSchemas.BEFORE_EMBEDDING;
        long anHourAgo = System.currentTimeMillis() - 3_600_000;
        try (DataFileWriter<GenericRecord> writer = new DataFileWriter<>(new GenericDatumWriter<GenericRecord>(older))) {
            writer.setSyncInterval(4_096); // several blocks
            writer.create(older, file.toFile());
            writer.append(event(older, job.catalogue.productId(1), "IMAGE_CHANGED", job.images.imageUrl(2), 2, 1, anHourAgo));
            for (int n = 0; n < PRODUCTS; n++) {
                writer.append(event(older, job.catalogue.productId(n), "UPSERTED", job.images.imageUrl(n), 1, n, anHourAgo));
            }
            writer.append(event(older, job.catalogue.productId(0), "REMOVED", null, 2, 0, anHourAgo));
            writer.append(event(older, "no-image", "UPSERTED", null, 1, 0, anHourAgo));
        }
        return file;
    }

    private GenericRecord event(Schema older, String productId, String kind, String imageUrl, long version, int n, long timestamp) {
        return WriterSchemas.event(older, productId)
                .set("eventId", productId + "@" + version)
                .set("timestamp", timestamp)
                .set("clientTimestamp", timestamp)
                .set("kind", WriterSchemas.symbol(older, "kind", kind))
                .set("catalogueVersion", version)
                .set("imageUrl", imageUrl)
                .set("categoryPath", List.of(job.catalogue.category(n)))
                .build();
    }

    /**
     * The same export in a data lake: under a dated prefix of an S3 bucket (S3Proxy, read through Flink's
     * S3 file system plugin as a TaskManager reads it), beside a file that is not an export. It is read and
     * checked as the local file was; a copy cut short added under the prefix stops the import before anything
     * is sent (the end check seeks in the S3 object).
     */
    @Test
    void anExportInS3IsReadThroughFlinksS3FileSystemAndACutCopyThereIsRefused() throws Exception {
        try (LocalS3Server s3 = LocalS3Server.builder().dataDir(work.resolve("s3")).build().start()) {
            StoreFileSystems.initialize(s3.flinkSettings(), Path.of("..", "flink-local", "target", "plugins").toAbsolutePath().normalize());
            try {
                upload(Files.readAllBytes(export), s3.uri("exports/2026-12-07/part-0.avro"));
                upload("not an export".getBytes(StandardCharsets.UTF_8), s3.uri("exports/2026-12-07/_SUCCESS"));
                String prefix = s3.uri("exports/2026-12-07/");

                CatalogueFileImport.Result fromS3 = CatalogueFileImport.run(CatalogueFileImport.containerFiles(prefix), importOptions, true,
                        line -> { });
                assertThat(fromS3.read()).isEqualTo(first.read());
                assertThat(fromS3.byKind()).isEqualTo(first.byKind());
                assertThat(fromS3.refusedByProblem()).isEqualTo(first.refusedByProblem());

                byte[] whole = Files.readAllBytes(export);
                upload(Arrays.copyOf(whole, whole.length - 100), s3.uri("exports/2026-12-07/part-1.avro"));
                assertThatThrownBy(() -> CatalogueFileImport.run(CatalogueFileImport.containerFiles(prefix), importOptions, true, line -> { }))
                        .hasMessageContaining("part-1.avro").hasMessageContaining("truncated");
            } finally {
                FileSystem.initialize(new Configuration(), null);
            }
        }
    }

    private static void upload(byte[] bytes, String uri) throws Exception {
        org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(uri);
        try (var out = path.getFileSystem().create(path, FileSystem.WriteMode.OVERWRITE)) {
            out.write(bytes);
        }
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
        Map<String, NeighbourListCollector.Seen> latest = job.run.lists().latest();
        for (int n = 1; n < PRODUCTS; n++) {
            String id = job.catalogue.productId(n);
            assertThat(latest.get(id)).as("list of %s", id).isNotNull();
            assertThat(latest.get(id).list().getNeighbours()).as("neighbours of %s", id).hasSize(K)
                    .extracting(Neighbour::getProductId).doesNotContain(id, job.catalogue.productId(0), "no-image");
        }
        NeighbourListCollector.Seen removed = latest.get(job.catalogue.productId(0));
        assertThat(removed == null || removed.list() == null).as("product 0 is removed: no list or a tombstone").isTrue();
    }

    @Test
    void aProductsNewestVersionInTheFileWins() {
        // Product 1 shows product 2's picture at version 2: one image, so one list, without each other
        // (neighbours.identical-images EXCLUDE). Had version 1 won, product 1's list would be its own picture's.
        Map<String, NeighbourListCollector.Seen> latest = job.run.lists().latest();
        List<String> ofOne = latest.get(job.catalogue.productId(1)).list().getNeighbours().stream().map(Neighbour::getProductId).toList();
        List<String> ofTwo = latest.get(job.catalogue.productId(2)).list().getNeighbours().stream().map(Neighbour::getProductId).toList();
        assertThat(ofOne).doesNotContain(job.catalogue.productId(2)).containsExactlyElementsOf(ofTwo);
    }

    @Test
    void theInvalidEventIsADeadLetterWithItsReason() throws Exception {
        AvroRecordCodec<DeadLetter> codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        List<DeadLetter> letters = new ArrayList<>();
        for (String key : job.run.deadLetters().keysSeen()) {
            for (NeighbourListCollector.Seen seen : job.run.deadLetters().history(key)) letters.add(codec.decode(seen.value()));
        }
        assertThat(letters).isNotEmpty().allSatisfy(letter -> {
            assertThat(letter.getProductId()).isEqualTo("no-image");
            assertThat(letter.getErrorMessage()).contains("imageUrl");
        });
    }

    @Test
    void importingTheSameFileAgainPublishesNoList() {
        assertThat(second.sent()).isEqualTo(PRODUCTS + 3);
        assertThat(job.run.deadLetters().records()).as("the job read the second import: its invalid event is a dead letter again").isEqualTo(2);
        assertThat(listsPublished()).isEqualTo(listsAfterFirstImport);
    }

    private Map<String, Integer> listsPublished() {
        Map<String, Integer> counts = new HashMap<>();
        for (String key : job.run.lists().keysSeen()) counts.put(key, job.run.lists().history(key).size());
        return counts;
    }

    private int withList() {
        Map<String, NeighbourListCollector.Seen> latest = job.run.lists().latest();
        int done = 0;
        for (int n = 1; n < PRODUCTS; n++) {
            if (latest.containsKey(job.catalogue.productId(n))) done++;
        }
        return done;
    }
}
