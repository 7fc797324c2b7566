package dev.similarity.flink.event;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.deadletter.DeadLetterRecord;
import dev.similarity.schemas.CatalogueEvent;
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
                IndexerConfig.from(Map.of("catalogue.writer-schema", file.toString())).catalogueEventCodec());
        Files.delete(file);
        CatalogueEventDecoder copy = org.apache.flink.util.InstantiationUtil.clone(decoder);

        byte[] event = WriterSchemas.naked(writer, WriterSchemas.event(writer, "p-1")
                .set("availability", WriterSchemas.symbol(writer, "availability", "ON_SALE")).build());
        assertThat(run(copy, event).changes()).extracting(ProductChange::productId).containsExactly("p-1");
    }

    record Decoded(List<ProductChange> changes, List<DeadLetterRecord> deadLetters) {}

    private static Decoded decode(Map<String, String> options, byte[]... values) throws Exception {
        return run(new CatalogueEventDecoder(IndexerConfig.from(options).catalogueEventCodec()), values);
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
