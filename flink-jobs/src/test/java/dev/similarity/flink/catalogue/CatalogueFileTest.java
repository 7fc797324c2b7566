package dev.similarity.flink.catalogue;

import dev.similarity.flink.IndexerOptions;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventKind;
import dev.similarity.schemas.EmbeddingVectors;
import dev.similarity.schemas.WriterSchemas;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CatalogueFileTest {

    @TempDir
    Path dir;

    /** An event of a producer that predates embeddings. */
    private static GenericRecord older(String productId, String kind, String imageUrl, long version) {
        Schema older = WriterSchemas.BEFORE_EMBEDDING;
        return WriterSchemas.event(older, productId).set("kind", WriterSchemas.symbol(older, "kind", kind))
                .set("imageUrl", imageUrl).set("catalogueVersion", version).build();
    }

    private static CatalogueEvent event(String productId, long version) {
        return CatalogueEvent.newBuilder().setEventId("e-" + productId).setTimestamp(1L).setClientTimestamp(1L)
                .setProductId(productId).setKind(CatalogueEventKind.UPSERTED).setCatalogueVersion(version)
                .setImageUrl("https://images.example/" + productId + ".jpg")
                .setEmbedding(EmbeddingVectors.of("m@1", new float[] {1, 0}))
                .build();
    }

    private Path write(String name, int syncInterval, GenericRecord... records) throws IOException {
        Path file = dir.resolve(name);
        Schema schema = records[0].getSchema();
        try (DataFileWriter<GenericRecord> writer = new DataFileWriter<>(new GenericDatumWriter<GenericRecord>(schema))) {
            writer.setSyncInterval(syncInterval);
            writer.create(schema, file.toFile());
            for (GenericRecord r : records) writer.append(r);
        }
        return file;
    }

    private Path manyOlder(String name, int count) throws IOException {
        GenericRecord[] records = new GenericRecord[count];
        for (int i = 0; i < count; i++) records[i] = older("p" + i, "UPSERTED", "https://i.example/" + i + ".jpg", 1);
        return write(name, 1_000, records); // many small blocks
    }

    private Path writeCurrent(String name, CatalogueEvent... events) throws IOException {
        Path file = dir.resolve(name);
        try (DataFileWriter<CatalogueEvent> writer = new DataFileWriter<>(new SpecificDatumWriter<>(CatalogueEvent.class))) {
            writer.create(CatalogueEvent.getClassSchema(), file.toFile());
            for (CatalogueEvent e : events) writer.append(e);
        }
        return file;
    }

    private static List<String> readIds(Path file) {
        return readAll(file, CatalogueEvent.getClassSchema(), AvroWireFormat.NAKED_BINARY).stream().map(CatalogueFile.Record::productId).toList();
    }

    private static List<CatalogueFile.Record> readAll(Path file, Schema target, AvroWireFormat format) {
        List<CatalogueFile.Record> out = new ArrayList<>();
        try (CatalogueFile catalogue = CatalogueFile.open(file, target, format)) {
            while (catalogue.hasNext()) out.add(catalogue.next());
        }
        return out;
    }

    @Test
    void eventsOfAnOlderProducerSchemaAreSentAsTheJobsOwnSchemaWithDefaults() throws Exception {
        Path file = write("older.avro", 64_000, older("p1", "UPSERTED", "https://i.example/1.jpg", 3), older("p2", "REMOVED", null, 7));

        List<CatalogueFile.Record> records = readAll(file, CatalogueEvent.getClassSchema(), AvroWireFormat.NAKED_BINARY);

        assertThat(records).extracting(CatalogueFile.Record::productId).containsExactly("p1", "p2");
        AvroRecordCodec<CatalogueEvent> job = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY);
        CatalogueEvent first = job.decode(records.get(0).value());
        assertThat(first.getImageUrl()).isEqualTo("https://i.example/1.jpg");
        assertThat(first.getCatalogueVersion()).isEqualTo(3);
        assertThat(first.getEmbedding()).isNull();
        assertThat(job.decode(records.get(1).value()).getKind()).isEqualTo(CatalogueEventKind.REMOVED);
    }

    @Test
    void singleObjectEventsNameTheJobsSchemaByFingerprint() throws Exception {
        Path file = writeCurrent("current.avro", event("p1", 1), event("p2", 2));

        List<CatalogueFile.Record> records = readAll(file, CatalogueEvent.getClassSchema(), AvroWireFormat.SINGLE_OBJECT);

        AvroRecordCodec<CatalogueEvent> job = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT);
        assertThat(records).hasSize(2);
        assertThat(job.decode(records.get(1).value())).isEqualTo(event("p2", 2));
    }

    @Test
    void nakedEventsAreWrittenWithTheProducersSchemaTheJobIsConfiguredWith() throws Exception {
        Schema older = WriterSchemas.BEFORE_EMBEDDING;
        Path schemaFile = dir.resolve("older.avsc");
        Files.writeString(schemaFile, older.toString(true));
        Configuration options = new Configuration();
        options.set(IndexerOptions.CATALOGUE_WRITER_SCHEMA, schemaFile.toString());
        Path file = writeCurrent("current.avro", event("p1", 1));

        CatalogueFileImport.Result result = CatalogueFileImport.run(files(file), options, true, line -> { });
        List<CatalogueFile.Record> records = readAll(file, older, AvroWireFormat.NAKED_BINARY);

        assertThat(result.read()).isEqualTo(1);
        CatalogueEvent decoded = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY, older).decode(records.get(0).value());
        assertThat(decoded.getImageUrl()).isEqualTo("https://images.example/p1.jpg");
        assertThat(decoded.getEmbedding()).as("the producers' schema has no embedding").isNull();
    }

    @Test
    void aFileWhoseSchemaTheJobCannotReadIsRefusedBeforeAnyRecord() throws Exception {
        Schema noProductId = Schema.createRecord("CatalogueEvent", null, "dev.similarity.schemas", false,
                List.of(new Schema.Field("eventId", Schema.create(Schema.Type.STRING))));
        Path file = write("foreign.avro", 64_000, new org.apache.avro.generic.GenericRecordBuilder(noProductId).set("eventId", "e1").build());

        assertThatThrownBy(() -> CatalogueFile.open(file, CatalogueEvent.getClassSchema(), AvroWireFormat.NAKED_BINARY))
                .isInstanceOf(CatalogueFile.CatalogueFileException.class)
                .hasMessageContaining("foreign.avro")
                .hasMessageContaining("productId");
    }

    @Test
    void aFileWithPricesOfAnotherDecimalScaleIsRefused() throws Exception {
        String json = CatalogueEvent.getClassSchema().toString().replace("\"precision\":18,\"scale\":4", "\"precision\":18,\"scale\":2");
        Schema cents = new Schema.Parser().parse(json);
        Path file = write("cents.avro", 64_000, WriterSchemas.event(cents, "p1").build());

        assertThatThrownBy(() -> CatalogueFile.open(file, CatalogueEvent.getClassSchema(), AvroWireFormat.NAKED_BINARY))
                .isInstanceOf(CatalogueFile.CatalogueFileException.class)
                .hasMessageContaining("price.amount").hasMessageContaining("decimal(18,2)");
    }

    @Test
    void aDamagedFileStopsAtTheDamageAfterTheRecordsBeforeIt() throws Exception {
        Path file = manyOlder("damaged.avro", 400);
        byte[] bytes = Files.readAllBytes(file);
        for (int i = bytes.length / 2; i < bytes.length / 2 + 64; i++) bytes[i] = (byte) 0xff;
        Files.write(file, bytes);

        List<String> read = new ArrayList<>();
        assertThatThrownBy(() -> {
            try (CatalogueFile catalogue = CatalogueFile.open(file, CatalogueEvent.getClassSchema(), AvroWireFormat.NAKED_BINARY)) {
                while (catalogue.hasNext()) read.add(catalogue.next().productId());
            }
        }).isInstanceOf(CatalogueFile.CatalogueFileException.class)
                .hasMessageContaining("damaged.avro: damaged after record " + read.size());
        assertThat(read.size()).isBetween(100, 300);
        assertThat(read.get(read.size() - 1)).isEqualTo("p" + (read.size() - 1));
    }

    @Test
    void aTruncatedFileIsAnErrorNotAnEarlyEnd() throws Exception {
        Path file = manyOlder("whole.avro", 400);
        assertThat(readIds(file)).hasSize(400); // whole: ends cleanly
        byte[] bytes = Files.readAllBytes(file);
        for (int cut : new int[] {1, 10, bytes.length / 3}) {
            Path truncated = dir.resolve("cut-" + cut + ".avro");
            Files.write(truncated, Arrays.copyOf(bytes, bytes.length - cut));

            assertThatThrownBy(() -> readIds(truncated)).as("cut by %d bytes", cut)
                    .isInstanceOf(CatalogueFile.CatalogueFileException.class)
                    .hasMessageContaining("cut-" + cut + ".avro: truncated");
        }
    }

    @Test
    void aFileThatIsNotAnAvroContainerFileIsRefusedByName() throws Exception {
        Path file = dir.resolve("events.json");
        Files.writeString(file, "{\"productId\": \"p1\"}\n");

        assertThatThrownBy(() -> CatalogueFile.open(file, CatalogueEvent.getClassSchema(), AvroWireFormat.NAKED_BINARY))
                .isInstanceOf(CatalogueFile.CatalogueFileException.class)
                .hasMessageContaining("events.json: not a readable Avro container file");
    }

    @Test
    void everyFileIsCheckedBeforeAnythingIsSent() throws Exception {
        Path good = manyOlder("part-1.avro", 100);
        Path empty = Files.createFile(dir.resolve("part-2.avro"));
        byte[] bytes = Files.readAllBytes(good);
        Path cut = Files.write(dir.resolve("part-3.avro"), Arrays.copyOf(bytes, bytes.length - 100));
        Configuration options = new Configuration();
        options.set(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS, "127.0.0.1:1"); // never reached

        assertThatThrownBy(() -> CatalogueFileImport.run(files(good, empty), options, false, line -> { }))
                .isInstanceOf(CatalogueFile.CatalogueFileException.class)
                .hasMessageContaining("part-2.avro: not a readable Avro container file");
        assertThatThrownBy(() -> CatalogueFileImport.run(files(good, cut), options, false, line -> { }))
                .isInstanceOf(CatalogueFile.CatalogueFileException.class)
                .hasMessageContaining("part-3.avro: truncated");
    }

    @Test
    void eventsTheJobWillRefuseAreCountedByRuleAndNamedNotDropped() throws Exception {
        Path file = write("mixed.avro", 64_000,
                older("good", "UPSERTED", "https://i.example/1.jpg", 1),
                older("no-image", "UPSERTED", null, 1),
                older("relative-1", "UPSERTED", "/images/1.jpg", 1),
                older("relative-2", "UPSERTED", "/images/2.jpg", 1),
                older("gone", "REMOVED", null, 2));

        CatalogueFileImport.Result result = CatalogueFileImport.run(files(file), new Configuration(), true, line -> { });

        assertThat(result.read()).isEqualTo(5);
        assertThat(result.sent()).isEqualTo(5);
        assertThat(result.byKind()).containsEntry("UPSERTED", 4L).containsEntry("REMOVED", 1L);
        assertThat(result.refused()).isEqualTo(3);
        assertThat(result.refusedByProblem()).hasSize(2).containsValue(2L); // the two relative URLs: one rule
        assertThat(result.examples().values()).anySatisfy(ids -> assertThat(ids).containsExactly("relative-1", "relative-2"))
                .anySatisfy(ids -> assertThat(ids).containsExactly("no-image"));
    }

    /** Refuses the fifth record it is given, as a broker refuses one too large for the topic. */
    private static final class RefusingProducer extends MockProducer<byte[], byte[]> {
        int sends;

        RefusingProducer() {
            super(true, null, new ByteArraySerializer(), new ByteArraySerializer());
        }

        @Override
        public synchronized Future<RecordMetadata> send(ProducerRecord<byte[], byte[]> record, Callback callback) {
            if (++sends == 5) {
                RecordTooLargeException refused = new RecordTooLargeException("the record is larger than the topic's max.message.bytes");
                callback.onCompletion(null, refused);
                return CompletableFuture.failedFuture(refused);
            }
            return super.send(record, callback);
        }
    }

    @Test
    void aRefusedSendStopsTheImportNamingTheProductAndWhatWasAcknowledged() throws Exception {
        Path file = manyOlder("catalogue.avro", 400);
        RefusingProducer producer = new RefusingProducer();
        Configuration options = new Configuration();
        AvroRecordCodec<CatalogueEvent> job = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY);

        assertThatThrownBy(() -> CatalogueFileImport.send(files(file, file), options, job, producer, line -> { }))
                .isInstanceOf(CatalogueFileImport.ImportStoppedException.class)
                .hasMessageContaining("product p4")
                .hasMessageContaining("max.message.bytes")
                .hasMessageContaining("4 events were acknowledged in all")
                .satisfies(e -> assertThat(((CatalogueFileImport.ImportStoppedException) e).acknowledged()).isEqualTo(4));
        assertThat(producer.sends).as("stopped at the refusal, not after both files").isEqualTo(5);
    }

    @Test
    void aFolderIsReadAsItsAvroFilesInNameOrder() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("export"));
        Files.writeString(folder.resolve("README.txt"), "not an export");
        Files.createFile(folder.resolve("part-2.avro"));
        Files.createFile(folder.resolve("part-1.avro"));

        assertThat(CatalogueFileImport.containerFiles(folder.toString())).extracting(p -> p.getName())
                .containsExactly("part-1.avro", "part-2.avro");
    }

    @Test
    void aMissingFileOrAFolderWithoutExportsIsNamedAndAnUnservedSchemeSaysWhatItNeeds() throws Exception {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertThatThrownBy(() -> CatalogueFileImport.containerFiles(dir.resolve("nothing.avro").toString()))
                .hasMessageContaining("nothing.avro: no such file");
        assertThatThrownBy(() -> CatalogueFileImport.containerFiles(empty.toString())).hasMessageContaining("no *.avro file");
        assertThatThrownBy(() -> CatalogueFileImport.containerFiles("s3://exports/catalogue/"))
                .hasMessageContaining("--plugins-dir");
    }

    /** Local files as the Flink file system paths the import reads. */
    private static List<org.apache.flink.core.fs.Path> files(Path... paths) {
        return java.util.Arrays.stream(paths).map(p -> new org.apache.flink.core.fs.Path(p.toUri())).toList();
    }
}
