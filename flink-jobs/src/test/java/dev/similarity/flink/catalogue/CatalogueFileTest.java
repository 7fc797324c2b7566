package dev.similarity.flink.catalogue;

import dev.similarity.flink.IndexerOptions;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventKind;
import dev.similarity.schemas.EmbeddingVectors;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.configuration.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CatalogueFileTest {

    @TempDir
    Path dir;

    /** The job's schema without the fields a producer of an older version lacks (embedding, attributes). */
    private static Schema olderSchema() {
        Schema current = CatalogueEvent.getClassSchema();
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : current.getFields()) {
            if (Set.of("embedding", "attributes").contains(f.name())) continue;
            fields.add(new Schema.Field(f, f.schema()));
        }
        return Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false, fields);
    }

    private static GenericRecord olderEvent(Schema older, String productId, CatalogueEventKind kind, String imageUrl, long version) {
        Schema kindSchema = older.getField("kind").schema();
        return new GenericRecordBuilder(older)
                .set("eventId", "e-" + productId + "-" + version)
                .set("timestamp", 1_700_000_000_000L + version)
                .set("clientTimestamp", 1_700_000_000_000L + version)
                .set("productId", productId)
                .set("kind", new GenericData.EnumSymbol(kindSchema, kind.name()))
                .set("catalogueVersion", version)
                .set("imageUrl", imageUrl)
                .build();
    }

    private static CatalogueEvent event(String productId, long version) {
        return CatalogueEvent.newBuilder().setEventId("e-" + productId).setTimestamp(1L).setClientTimestamp(1L)
                .setProductId(productId).setKind(CatalogueEventKind.UPSERTED).setCatalogueVersion(version)
                .setImageUrl("https://images.example/" + productId + ".jpg")
                .setEmbedding(EmbeddingVectors.of("m@1", new float[] {1, 0}))
                .build();
    }

    private Path writeOlder(String name, int syncInterval, GenericRecord... records) throws IOException {
        Path file = dir.resolve(name);
        try (DataFileWriter<GenericRecord> writer = new DataFileWriter<>(new GenericDatumWriter<GenericRecord>(records[0].getSchema()))) {
            writer.setSyncInterval(syncInterval);
            writer.create(records[0].getSchema(), file.toFile());
            for (GenericRecord r : records) writer.append(r);
        }
        return file;
    }

    private Path writeCurrent(String name, CatalogueEvent... events) throws IOException {
        Path file = dir.resolve(name);
        try (DataFileWriter<CatalogueEvent> writer = new DataFileWriter<>(new SpecificDatumWriter<>(CatalogueEvent.class))) {
            writer.create(CatalogueEvent.getClassSchema(), file.toFile());
            for (CatalogueEvent e : events) writer.append(e);
        }
        return file;
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
        Schema older = olderSchema();
        Path file = writeOlder("older.avro", 64_000, olderEvent(older, "p1", CatalogueEventKind.UPSERTED, "https://i.example/1.jpg", 3),
                olderEvent(older, "p2", CatalogueEventKind.REMOVED, null, 7));

        List<CatalogueFile.Record> records = readAll(file, CatalogueEvent.getClassSchema(), AvroWireFormat.NAKED_BINARY);

        assertThat(records).extracting(CatalogueFile.Record::productId).containsExactly("p1", "p2");
        AvroRecordCodec<CatalogueEvent> job = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY);
        CatalogueEvent first = job.decode(records.get(0).value());
        assertThat(first.getImageUrl()).isEqualTo("https://i.example/1.jpg");
        assertThat(first.getCatalogueVersion()).isEqualTo(3);
        assertThat(first.getEmbedding()).isNull();
        assertThat(first.getAttributes()).isEmpty();
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
        Schema older = olderSchema();
        Path schemaFile = dir.resolve("older.avsc");
        Files.writeString(schemaFile, older.toString(true));
        Configuration options = new Configuration();
        options.set(IndexerOptions.CATALOGUE_WRITER_SCHEMA, schemaFile.toString());
        Path file = writeCurrent("current.avro", event("p1", 1));

        CatalogueFileImport.Result result = CatalogueFileImport.run(List.of(file), options, true);
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
        Path file = writeOlder("foreign.avro", 64_000, new GenericRecordBuilder(noProductId).set("eventId", "e1").build());

        assertThatThrownBy(() -> CatalogueFile.open(file, CatalogueEvent.getClassSchema(), AvroWireFormat.NAKED_BINARY))
                .isInstanceOf(CatalogueFile.CatalogueFileException.class)
                .hasMessageContaining("foreign.avro")
                .hasMessageContaining("productId")
                .hasMessageContaining("nothing was read");
    }

    @Test
    void aDamagedFileStopsAtTheDamageAfterTheRecordsBeforeIt() throws Exception {
        Schema older = olderSchema();
        GenericRecord[] records = new GenericRecord[400];
        for (int i = 0; i < records.length; i++) {
            records[i] = olderEvent(older, "p" + i, CatalogueEventKind.UPSERTED, "https://i.example/" + i + ".jpg", 1);
        }
        Path file = writeOlder("damaged.avro", 1_000, records); // many small blocks
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
    void aFileThatIsNotAnAvroContainerFileIsRefusedByName() throws Exception {
        Path file = dir.resolve("events.json");
        Files.writeString(file, "{\"productId\": \"p1\"}\n");

        assertThatThrownBy(() -> CatalogueFile.open(file, CatalogueEvent.getClassSchema(), AvroWireFormat.NAKED_BINARY))
                .isInstanceOf(CatalogueFile.CatalogueFileException.class)
                .hasMessageContaining("events.json: not a readable Avro container file");
    }

    @Test
    void eventsTheJobWillRefuseAreCountedAndNamedNotDropped() throws Exception {
        Schema older = olderSchema();
        Path file = writeOlder("mixed.avro", 64_000,
                olderEvent(older, "good", CatalogueEventKind.UPSERTED, "https://i.example/1.jpg", 1),
                olderEvent(older, "no-image", CatalogueEventKind.UPSERTED, null, 1),
                olderEvent(older, "gone", CatalogueEventKind.REMOVED, null, 2));

        CatalogueFileImport.Result result = CatalogueFileImport.run(List.of(file), new Configuration(), true);

        assertThat(result.read()).isEqualTo(3);
        assertThat(result.sent()).isEqualTo(3);
        assertThat(result.byKind()).containsEntry("UPSERTED", 2L).containsEntry("REMOVED", 1L);
        assertThat(result.refused()).isEqualTo(1);
        assertThat(result.refusedByProblem().keySet()).singleElement().asString().contains("imageUrl");
        assertThat(result.examples().values()).singleElement().asList().containsExactly("no-image");
    }

    @Test
    void aFolderIsReadAsItsAvroFilesInNameOrder() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("export"));
        Files.writeString(folder.resolve("README.txt"), "not an export");
        Files.createFile(folder.resolve("part-2.avro"));
        Files.createFile(folder.resolve("part-1.avro"));

        assertThat(CatalogueFileImport.containerFiles(folder)).extracting(p -> p.getFileName().toString())
                .containsExactly("part-1.avro", "part-2.avro");
    }
}
