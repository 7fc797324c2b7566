package dev.similarity.flink.event;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.deadletter.DeadLetterRecord;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventKind;
import dev.similarity.schemas.EmbeddingVectors;
import dev.similarity.schemas.ImageEmbedding;
import dev.similarity.schemas.SampleRecords;
import dev.similarity.schemas.WriterSchemas;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.avro.Schema;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The job's decode step configured as an operator would: the producers' .avsc files named in the
 * job's options, events written by Avro's own encoders with those schemas.
 */
class CatalogueEventDecoderTest {

    /** The job's model, as the job builds the check from model.json: qualified id and dimension. */
    private static final EventEmbeddingCheck MODEL = new EventEmbeddingCheck("shoes@3", 4);
    private static final AvroRecordCodec<CatalogueEvent> OWN_NAKED = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY);

    @Test
    void anEventCarryingAnEmbeddingOfTheJobsModelGoesOnNormalisedWithAKeyOfItsVector() throws Exception {
        byte[] event = OWN_NAKED.encode(SampleRecords.upsert("p-1")
                .setEmbedding(EmbeddingVectors.of("shoes@3", new float[] {3, 0, 4, 0})).build());
        byte[] sameVector = OWN_NAKED.encode(SampleRecords.upsert("p-2")
                .setEmbedding(EmbeddingVectors.of("shoes@3", new float[] {0.6f, 0, 0.8f, 0})).build());
        byte[] imageOnly = OWN_NAKED.encode(SampleRecords.upsert("p-3").build());

        Decoded decoded = decode(Map.of(), event, sameVector, imageOnly);

        assertThat(decoded.deadLetters()).isEmpty();
        assertThat(decoded.changes()).hasSize(3);
        ProvidedEmbedding first = decoded.changes().get(0).embedding();
        assertThat(first.vector()).containsExactly(0.6f, 0f, 0.8f, 0f);
        assertThat(first.contentHash()).hasSize(64).isEqualTo(EventEmbeddingCheck.contentHash("shoes@3", first.vector()));
        // One vector is one image, whatever its scale on the wire: the two products share its key.
        assertThat(decoded.changes().get(1).embedding().contentHash()).isEqualTo(first.contentHash());
        assertThat(EventEmbeddingCheck.contentHash("boots@1", first.vector())).isNotEqualTo(first.contentHash());
        assertThat(decoded.changes().get(2).embedding()).as("fetched and embedded by the job").isNull();
    }

    @Test
    void anEmbeddingOfAnotherModelIsAModelMismatchDeadLetterNamingBothModels() throws Exception {
        byte[] event = OWN_NAKED.encode(SampleRecords.upsert("p-1")
                .setEmbedding(EmbeddingVectors.of("shoes@2", new float[] {1, 0, 0, 0})).build());

        Decoded decoded = decode(Map.of(), event);

        assertThat(decoded.changes()).isEmpty();
        assertThat(decoded.deadLetters()).singleElement().satisfies(dead -> {
            assertThat(dead.reason()).isEqualTo("EMBEDDING_MODEL_MISMATCH");
            assertThat(dead.stage()).isEqualTo("validate");
            assertThat(dead.productId()).isEqualTo("p-1");
            assertThat(dead.message()).contains("product p-1", "'shoes@2'", "'shoes@3'");
            assertThat(dead.source().value()).isEqualTo(event);
        });
    }

    @Test
    void anEmbeddingOfTheWrongLengthNonFiniteOrAllZerosIsAnInvalidEmbeddingDeadLetter() throws Exception {
        byte[] fiveDimensions = OWN_NAKED.encode(SampleRecords.upsert("p-5").setEmbedding(
                EmbeddingVectors.of("shoes@3", new float[] {1, 2, 3, 4, 5})).build());
        byte[] oddBytes = OWN_NAKED.encode(SampleRecords.upsert("p-odd").setEmbedding(ImageEmbedding.newBuilder()
                .setModelId("shoes@3").setVector(ByteBuffer.wrap(new byte[15])).build()).build());
        byte[] nan = OWN_NAKED.encode(SampleRecords.upsert("p-nan").setEmbedding(
                EmbeddingVectors.of("shoes@3", new float[] {1, Float.NaN, 3, 4})).build());
        byte[] infinite = OWN_NAKED.encode(SampleRecords.upsert("p-inf").setEmbedding(
                EmbeddingVectors.of("shoes@3", new float[] {1, 2, Float.NEGATIVE_INFINITY, 4})).build());
        byte[] zeros = OWN_NAKED.encode(SampleRecords.upsert("p-zero").setEmbedding(
                EmbeddingVectors.of("shoes@3", new float[4])).build());

        Decoded decoded = decode(Map.of(), fiveDimensions, oddBytes, nan, infinite, zeros);

        assertThat(decoded.changes()).isEmpty();
        assertThat(decoded.deadLetters()).extracting(DeadLetterRecord::reason).containsOnly("INVALID_EMBEDDING").hasSize(5);
        assertThat(decoded.deadLetters()).extracting(DeadLetterRecord::stage).containsOnly("validate");
        assertThat(decoded.deadLetters()).extracting(DeadLetterRecord::productId)
                .containsExactly("p-5", "p-odd", "p-nan", "p-inf", "p-zero");
        assertThat(decoded.deadLetters().get(0).message()).contains("product p-5", "20 bytes (5 float32 values)",
                "4 dimensions", "expected 16 bytes");
        assertThat(decoded.deadLetters().get(1).message()).contains("product p-odd", "15 bytes", "expected 16 bytes");
        assertThat(decoded.deadLetters().get(2).message()).contains("product p-nan", "NaN at index 1");
        assertThat(decoded.deadLetters().get(3).message()).contains("product p-inf", "-Infinity at index 2");
        assertThat(decoded.deadLetters().get(4).message()).contains("product p-zero", "all zeros");
    }

    @Test
    void aRemovalCarryingAnEmbeddingIsARemovalWhateverItsModel() throws Exception {
        byte[] event = OWN_NAKED.encode(SampleRecords.upsert("p-1").setKind(CatalogueEventKind.REMOVED)
                .setEmbedding(EmbeddingVectors.of("other@1", new float[] {1})).build());

        Decoded decoded = decode(Map.of(), event);

        assertThat(decoded.deadLetters()).isEmpty();
        assertThat(decoded.changes()).singleElement().satisfies(change -> {
            assertThat(change.isRemoval()).isTrue();
            assertThat(change.embedding()).isNull();
        });
    }

    @Test
    void producersOfTheSchemaBeforeEmbeddingsAndOfTheJobsSchemaFeedOneTopicSideBySide() throws Exception {
        // Single-object: the old producer's schema listed, each event read with the schema its fingerprint names.
        Schema old = WriterSchemas.BEFORE_EMBEDDING;
        AvroRecordCodec<CatalogueEvent> own = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT);
        byte[] fromOld = WriterSchemas.singleObject(old, WriterSchemas.event(old, "p-old").build());
        byte[] fromNew = own.encode(SampleRecords.upsert("p-new")
                .setEmbedding(EmbeddingVectors.of("shoes@3", new float[] {0, 2, 0, 0})).build());
        byte[] fromNewWithoutEmbedding = own.encode(SampleRecords.upsert("p-new-image").build());

        Decoded decoded = decode(Map.of("catalogue.wire-format", "SINGLE_OBJECT",
                "catalogue.known-writer-schemas", avsc("before-embedding", old)), fromOld, fromNew, fromNewWithoutEmbedding, fromOld);

        assertThat(decoded.deadLetters()).isEmpty();
        assertThat(decoded.changes()).extracting(ProductChange::productId).containsExactly("p-old", "p-new", "p-new-image", "p-old");
        assertThat(decoded.changes().get(0).embedding()).isNull();
        assertThat(decoded.changes().get(0).imageUrl()).isEqualTo("https://images.example.com/p/p-old.jpg");
        assertThat(decoded.changes().get(1).embedding().vector()).containsExactly(0f, 1f, 0f, 0f);
        assertThat(decoded.changes().get(2).embedding()).isNull();

        // Naked: a producer still on the old schema, the job told so, reads with no embedding.
        Decoded naked = decode(Map.of("catalogue.writer-schema", avsc("old-naked", old)),
                WriterSchemas.naked(old, WriterSchemas.event(old, "p-old").build()));
        assertThat(naked.deadLetters()).isEmpty();
        assertThat(naked.changes()).singleElement().satisfies(change -> assertThat(change.embedding()).isNull());
    }

    @TempDir
    Path dir;

    @Test
    void aNakedEventWithAnAvailabilitySymbolTheJobLacksIsIndexedOnceTheWriterSchemaIsConfigured() throws Exception {
        Schema writer = WriterSchemas.AVAILABILITY_ON_SALE;
        byte[] onSale = WriterSchemas.naked(writer, WriterSchemas.event(writer, "p-1")
                .set("availability", WriterSchemas.symbol(writer, "availability", "ON_SALE")).build());

        Decoded configured = decode(Map.of("catalogue.writer-schema", avsc("producer", writer)), onSale);
        assertThat(configured.deadLetters()).isEmpty();
        assertThat(configured.changes()).extracting(ProductChange::productId).containsExactly("p-1");

        // Without the producer's schema the job cannot know the extra symbol; the dead letter says where to give it.
        Decoded unconfigured = decode(Map.of(), onSale);
        assertThat(unconfigured.changes()).isEmpty();
        assertThat(unconfigured.deadLetters()).singleElement().satisfies(dead -> {
            assertThat(dead.reason()).isEqualTo("MALFORMED_RECORD");
            assertThat(dead.message()).contains("give its .avsc in catalogue.writer-schema");
        });
    }

    @Test
    void nakedEventsOfAnOlderProducerTakeTheDefaultsOfFieldsAddedSince() throws Exception {
        Schema writer = WriterSchemas.WITHOUT_NEWER_FIELDS;
        byte[] older = WriterSchemas.naked(writer, WriterSchemas.event(writer, "p-1")
                .set("categoryPath", List.of("Home", "Lamps")).build());

        Decoded decoded = decode(Map.of("catalogue.writer-schema", avsc("older", writer)), older);

        assertThat(decoded.deadLetters()).isEmpty();
        assertThat(decoded.changes()).singleElement().satisfies(change -> {
            assertThat(change.productId()).isEqualTo("p-1");
            assertThat(change.category()).isEqualTo("Home > Lamps");
            assertThat(change.imageUrl()).isEqualTo("https://images.example.com/p/p-1.jpg");
        });
    }

    @Test
    void nakedEventsWithFieldsTheJobRemovedAreReadWithoutThem() throws Exception {
        Schema writer = WriterSchemas.WITH_FIELDS_THE_JOB_REMOVED;
        byte[] event = WriterSchemas.naked(writer, WriterSchemas.withRemovedFields(writer, WriterSchemas.event(writer, "p-1"))
                .set("catalogueVersion", 12L).build());

        Decoded decoded = decode(Map.of("catalogue.writer-schema", avsc("wider", writer)), event);

        assertThat(decoded.deadLetters()).isEmpty();
        assertThat(decoded.changes()).singleElement().satisfies(change -> {
            assertThat(change.productId()).isEqualTo("p-1");
            assertThat(change.catalogueVersion()).isEqualTo(12L);
        });
    }

    @Test
    void narrowerTypesOfTheProducerArePromoted() throws Exception {
        Schema writer = WriterSchemas.PROMOTED_TYPES;
        byte[] event = WriterSchemas.naked(writer, WriterSchemas.event(writer, "p-1")
                .set("timestamp", 1_700_000_123)
                .set("catalogueVersion", 9)
                .set("categoryPath", List.of(utf8("Home"), utf8("Lamps")))
                .build());

        Decoded decoded = decode(Map.of("catalogue.writer-schema", avsc("narrow", writer)), event);

        assertThat(decoded.deadLetters()).isEmpty();
        assertThat(decoded.changes()).singleElement().satisfies(change -> {
            assertThat(change.eventTimestamp()).isEqualTo(1_700_000_123L); // int -> long
            assertThat(change.catalogueVersion()).isEqualTo(9L);
            assertThat(change.category()).isEqualTo("Home > Lamps"); // bytes -> string
        });
    }

    @Test
    void unionsOfTheProducerResolveBranchByBranch() throws Exception {
        Schema writer = WriterSchemas.UNION_CHANGES;
        byte[] event = WriterSchemas.naked(writer, WriterSchemas.event(writer, "p-1")
                .set("title", "Lamp").set("sessionId", "s-1").build());

        Decoded decoded = decode(Map.of("catalogue.writer-schema", avsc("unions", writer)), event);

        assertThat(decoded.deadLetters()).isEmpty();
        assertThat(decoded.changes()).extracting(ProductChange::imageUrl).containsExactly("https://images.example.com/p/p-1.jpg");
    }

    @Test
    void singleObjectEventsAreReadWithTheKnownSchemaTheirFingerprintNames() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("producers"));
        avsc(folder, "a-on-sale", WriterSchemas.AVAILABILITY_ON_SALE);
        avsc(folder, "b-older", WriterSchemas.WITHOUT_NEWER_FIELDS);
        Files.writeString(folder.resolve("README.txt"), "not a schema: ignored");
        String narrow = avsc("narrow", WriterSchemas.PROMOTED_TYPES);
        List<byte[]> events = new ArrayList<>();
        for (Schema writer : List.of(WriterSchemas.AVAILABILITY_ON_SALE, WriterSchemas.WITHOUT_NEWER_FIELDS, WriterSchemas.PROMOTED_TYPES)) {
            events.add(WriterSchemas.singleObject(writer, WriterSchemas.event(writer, "p-" + events.size()).build()));
        }
        events.add(AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT).encode(SampleRecords.upsert("p-3").build()));

        Decoded decoded = decode(Map.of("catalogue.wire-format", "SINGLE_OBJECT",
                "catalogue.known-writer-schemas", folder + ";" + narrow), events.toArray(byte[][]::new));

        assertThat(decoded.deadLetters()).isEmpty();
        assertThat(decoded.changes()).extracting(ProductChange::productId).containsExactly("p-0", "p-1", "p-2", "p-3");
    }

    @Test
    void aSingleObjectEventWithAnUnknownFingerprintIsADeadLetterNamingTheFingerprintAndTheOption() throws Exception {
        Schema writer = WriterSchemas.AVAILABILITY_ON_SALE;
        byte[] event = WriterSchemas.singleObject(writer, WriterSchemas.event(writer, "p-1").build());
        String fingerprint = AvroRecordCodec.fingerprintHex(writer);

        Decoded decoded = decode(Map.of("catalogue.wire-format", "SINGLE_OBJECT",
                "catalogue.known-writer-schemas", avsc("narrow", WriterSchemas.PROMOTED_TYPES)), event);

        assertThat(decoded.changes()).isEmpty();
        assertThat(decoded.deadLetters()).singleElement().satisfies(dead -> {
            assertThat(dead.reason()).isEqualTo("UNKNOWN_WRITER_SCHEMA");
            assertThat(dead.stage()).isEqualTo("decode");
            assertThat(dead.message())
                    .contains("writer schema fingerprint " + fingerprint)
                    .contains(AvroRecordCodec.fingerprintHex(CatalogueEvent.getClassSchema()))
                    .contains(AvroRecordCodec.fingerprintHex(WriterSchemas.PROMOTED_TYPES))
                    .contains("add the producer's schema (.avsc) to catalogue.known-writer-schemas");
            assertThat(dead.source().value()).isEqualTo(event);
        });
    }

    @Test
    void theConfiguredCodecTravelsToTheTaskManagersWithoutTheFiles() throws Exception {
        Schema writer = WriterSchemas.AVAILABILITY_ON_SALE;
        Path file = Path.of(avsc("producer", writer));
        CatalogueEventDecoder decoder = new CatalogueEventDecoder(
                IndexerConfig.from(Map.of("catalogue.writer-schema", file.toString())).catalogueEventCodec(), MODEL);
        Files.delete(file);
        CatalogueEventDecoder copy = org.apache.flink.util.InstantiationUtil.clone(decoder);

        byte[] event = WriterSchemas.naked(writer, WriterSchemas.event(writer, "p-1")
                .set("availability", WriterSchemas.symbol(writer, "availability", "ON_SALE")).build());
        assertThat(run(copy, event).changes()).extracting(ProductChange::productId).containsExactly("p-1");
    }

    record Decoded(List<ProductChange> changes, List<DeadLetterRecord> deadLetters) {}

    private static Decoded decode(Map<String, String> options, byte[]... values) throws Exception {
        return run(new CatalogueEventDecoder(IndexerConfig.from(options).catalogueEventCodec(), MODEL), values);
    }

    private static Decoded run(CatalogueEventDecoder decoder, byte[]... values) throws Exception {
        try (OneInputStreamOperatorTestHarness<RawCatalogueRecord, ProductChange> harness =
                     ProcessFunctionTestHarnesses.forProcessFunction(decoder)) {
            for (int i = 0; i < values.length; i++) {
                harness.processElement(new RawCatalogueRecord(null, values[i], "catalogue-events", 0, i, 0L), 0L);
            }
            List<DeadLetterRecord> dead = new ArrayList<>();
            var side = harness.getSideOutput(DeadLetterRecord.TAG);
            if (side != null) side.stream().map(StreamRecord::getValue).forEach(dead::add);
            return new Decoded(harness.extractOutputValues(), dead);
        }
    }

    private String avsc(String name, Schema schema) throws Exception {
        return avsc(dir, name, schema);
    }

    private static String avsc(Path folder, String name, Schema schema) throws Exception {
        return Files.writeString(folder.resolve(name + ".avsc"), schema.toString(true)).toString();
    }

    private static ByteBuffer utf8(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    }
}
