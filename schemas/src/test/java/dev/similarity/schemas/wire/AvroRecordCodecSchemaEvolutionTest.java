package dev.similarity.schemas.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.similarity.schemas.Availability;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventKind;
import dev.similarity.schemas.EmbeddingVectors;
import dev.similarity.schemas.SampleRecords;
import dev.similarity.schemas.WriterSchemas;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each evolution Avro's schema resolution allows, written by a producer with its own copy of the
 * CatalogueEvent schema and read by the codec given that writer schema, in both wire formats.
 */
class AvroRecordCodecSchemaEvolutionTest {

  private static final String OWN_SCHEMA = hex(SchemaNormalization.parsingFingerprint64(CatalogueEvent.getClassSchema()));

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void anAvailabilitySymbolTheJobDoesNotKnowReadsAsTheEnumDefault(AvroWireFormat format) throws Exception {
    Schema writer = WriterSchemas.AVAILABILITY_ON_SALE;
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, format, writer);

    CatalogueEvent onSale = codec.decode(WriterSchemas.encode(format, writer, WriterSchemas.event(writer, "p-1")
        .set("availability", WriterSchemas.symbol(writer, "availability", "ON_SALE")).build()));
    CatalogueEvent inStock = codec.decode(WriterSchemas.encode(format, writer, WriterSchemas.event(writer, "p-2")
        .set("availability", WriterSchemas.symbol(writer, "availability", "IN_STOCK")).build()));

    assertThat(onSale.getAvailability()).isEqualTo(Availability.UNKNOWN);
    assertThat(onSale.getProductId()).isEqualTo("p-1");
    assertThat(inStock.getAvailability()).isEqualTo(Availability.IN_STOCK);
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void fieldsTheWriterLacksTakeTheirDefaults(AvroWireFormat format) throws Exception {
    Schema writer = WriterSchemas.WITHOUT_NEWER_FIELDS;
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, format, writer);

    CatalogueEvent event = codec.decode(WriterSchemas.encode(format, writer, WriterSchemas.event(writer, "p-1")
        .set("title", "Lamp").build()));

    assertThat(event.getTitle()).isEqualTo("Lamp");
    assertThat(event.getEventType()).isEqualTo("catalogue");
    assertThat(event.getBrand()).isNull();
    assertThat(event.getPrice()).isNull();
    assertThat(event.getAvailability()).isEqualTo(Availability.UNKNOWN);
    assertThat(event.getAttributes()).isEmpty();
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void fieldsTheJobRemovedAreSkipped(AvroWireFormat format) throws Exception {
    Schema writer = WriterSchemas.WITH_FIELDS_THE_JOB_REMOVED;
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, format, writer);

    CatalogueEvent event = codec.decode(WriterSchemas.encode(format, writer,
        WriterSchemas.withRemovedFields(writer, WriterSchemas.event(writer, "p-1"))
            .set("brand", "Acme")
            .set("attributes", Map.of("colour", "red"))
            .build()));

    assertThat(event.getProductId()).isEqualTo("p-1");
    assertThat(event.getBrand()).isEqualTo("Acme");
    assertThat(event.getAttributes()).containsExactly(Map.entry("colour", "red"));
    assertThat(event.getImageUrl()).isEqualTo("https://images.example.com/p/p-1.jpg");
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void narrowerTypesArePromoted(AvroWireFormat format) throws Exception {
    Schema writer = WriterSchemas.PROMOTED_TYPES;
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, format, writer);

    CatalogueEvent event = codec.decode(WriterSchemas.encode(format, writer, WriterSchemas.event(writer, "p-1")
        .set("remoteHost", utf8("10.0.0.9"))
        .set("categoryPath", List.of(utf8("Home"), utf8("Lamps")))
        .set("attributes", Map.of("colour", utf8("grün")))
        .set("brand", utf8("Acme"))
        .build()));

    assertThat(event.getTimestamp()).isEqualTo(1_700_000_000L); // int -> long
    assertThat(event.getClientTimestamp()).isEqualTo(1_699_999_999L);
    assertThat(event.getCatalogueVersion()).isEqualTo(7L);
    assertThat(event.getRemoteHost()).isEqualTo("10.0.0.9"); // bytes -> string
    assertThat(event.getCategoryPath()).containsExactly("Home", "Lamps");
    assertThat(event.getAttributes()).containsExactly(Map.entry("colour", "grün"));
    assertThat(event.getBrand()).isEqualTo("Acme"); // ["null", bytes] -> ["null", string]
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void unionsResolveBranchByBranch(AvroWireFormat format) throws Exception {
    Schema writer = WriterSchemas.UNION_CHANGES;
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, format, writer);

    CatalogueEvent event = codec.decode(WriterSchemas.encode(format, writer, WriterSchemas.event(writer, "p-1")
        .set("title", "Lamp").set("sessionId", "s-9").set("brand", utf8("Acme")).build()));
    assertThat(event.getTitle()).isEqualTo("Lamp"); // string -> ["null", string]
    assertThat(event.getSessionId()).isEqualTo("s-9");
    assertThat(event.getImageUrl()).isEqualTo("https://images.example.com/p/p-1.jpg"); // [string, null] -> [null, string]
    assertThat(event.getBrand()).isEqualTo("Acme"); // the bytes branch of [null, string, bytes] -> [null, string]

    CatalogueEvent removed = codec.decode(WriterSchemas.encode(format, writer, WriterSchemas.event(writer, "p-2")
        .set("title", "Lamp").set("sessionId", "s-9").set("imageUrl", null).set("brand", "Acme").build()));
    assertThat(removed.getImageUrl()).isNull();
    assertThat(removed.getBrand()).isEqualTo("Acme");
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void eventsOfProducersFromBeforeEmbeddingsReadWithoutOne(AvroWireFormat format) throws Exception {
    Schema old = WriterSchemas.BEFORE_EMBEDDING;
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, format, old);

    CatalogueEvent event = codec.decode(WriterSchemas.encode(format, old, WriterSchemas.event(old, "p-1").build()));

    assertThat(event.getProductId()).isEqualTo("p-1");
    assertThat(event.getImageUrl()).isEqualTo("https://images.example.com/p/p-1.jpg");
    assertThat(event.getEmbedding()).isNull();
  }

  @Test
  void aProducerFromBeforeEmbeddingsAndOneSendingThemShareASingleObjectTopic() throws Exception {
    Schema old = WriterSchemas.BEFORE_EMBEDDING;
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT, old);
    CatalogueEvent embedded = SampleRecords.upsert("p-new")
        .setEmbedding(EmbeddingVectors.of("shoes@3", new float[] {0.25f, -1.5f, 3e-8f})).build();

    CatalogueEvent fromOld = codec.decode(WriterSchemas.singleObject(old, WriterSchemas.event(old, "p-old").build()));
    CatalogueEvent fromNew = codec.decode(codec.encode(embedded));

    assertThat(fromOld.getEmbedding()).isNull();
    assertThat(fromNew).isEqualTo(embedded);
    assertThat(fromNew.getEmbedding().getModelId()).isEqualTo("shoes@3");
    assertThat(EmbeddingVectors.fromBytes(fromNew.getEmbedding().getVector())).containsExactly(0.25f, -1.5f, 3e-8f);
    // Either schema reads the other's records: consumers still on the old one skip the embedding.
    assertThat(SchemaCompatibility.checkReaderWriterCompatibility(old, CatalogueEvent.getClassSchema()).getType())
        .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
    assertThat(SchemaCompatibility.checkReaderWriterCompatibility(CatalogueEvent.getClassSchema(), old).getType())
        .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
  }

  @Test
  void singleObjectKnowsEveryGivenWriterSchemaByItsFingerprint() throws Exception {
    List<Schema> writers = List.of(WriterSchemas.AVAILABILITY_ON_SALE, WriterSchemas.WITHOUT_NEWER_FIELDS,
        WriterSchemas.PROMOTED_TYPES);
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT, writers);

    for (Schema writer : writers) {
      CatalogueEvent event = codec.decode(WriterSchemas.singleObject(writer, WriterSchemas.event(writer, "p-1").build()));
      assertThat(event.getProductId()).as(writer.getDoc()).isEqualTo("p-1");
    }
    // Its own schema stays known, and it writes that.
    CatalogueEvent own = SampleRecords.upsert("p-2").build();
    assertThat(codec.decode(codec.encode(own))).isEqualTo(own);
    assertThat(codec.writerSchemas()).hasSize(4).first().isEqualTo(CatalogueEvent.getClassSchema());
  }

  @Test
  void anUnknownFingerprintIsReportedWithTheFingerprint() {
    Schema writer = WriterSchemas.AVAILABILITY_ON_SALE;
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT,
        List.of(WriterSchemas.PROMOTED_TYPES));
    byte[] bytes = WriterSchemas.singleObject(writer, WriterSchemas.event(writer, "p-1").build());
    long fingerprint = SchemaNormalization.parsingFingerprint64(writer);

    assertThatThrownBy(() -> codec.decode(bytes))
        .isInstanceOfSatisfying(UnknownWriterSchemaException.class, e -> {
          assertThat(e.fingerprint()).isEqualTo(fingerprint);
          assertThat(e.fingerprintHex()).isEqualTo(hex(fingerprint));
        })
        .hasMessageContaining("writer schema fingerprint " + hex(fingerprint) + " is unknown")
        .hasMessageContaining(OWN_SCHEMA)
        .hasMessageContaining(hex(SchemaNormalization.parsingFingerprint64(WriterSchemas.PROMOTED_TYPES)));
  }

  @Test
  void aNewEventKindCannotBeResolvedBecauseTheKindHasNoDefault() {
    assertThatThrownBy(() -> AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY, WriterSchemas.KIND_ARCHIVED))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot be read as dev.similarity.schemas.CatalogueEvent")
        .hasMessageContaining("ARCHIVED")
        .hasMessageContaining("kind");
    assertThatThrownBy(() -> AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT,
            List.of(WriterSchemas.PROMOTED_TYPES, WriterSchemas.KIND_ARCHIVED)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(hex(SchemaNormalization.parsingFingerprint64(WriterSchemas.KIND_ARCHIVED)));
  }

  @Test
  void nakedRecordsCanHaveOnlyOneWriterSchema() {
    assertThatThrownBy(() -> AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY,
            List.of(WriterSchemas.PROMOTED_TYPES, WriterSchemas.AVAILABILITY_ON_SALE)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("one writer schema");
  }

  @Test
  void survivesJavaSerializationWithEveryWriterSchema() throws Exception {
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT,
        List.of(WriterSchemas.AVAILABILITY_ON_SALE, WriterSchemas.PROMOTED_TYPES));
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
      out.writeObject(codec);
    }
    @SuppressWarnings("unchecked")
    AvroRecordCodec<CatalogueEvent> copy = (AvroRecordCodec<CatalogueEvent>) new java.io.ObjectInputStream(
        new java.io.ByteArrayInputStream(bytes.toByteArray())).readObject();

    Schema writer = WriterSchemas.PROMOTED_TYPES;
    assertThat(copy.decode(WriterSchemas.singleObject(writer, WriterSchemas.event(writer, "p-1").build())).getKind())
        .isEqualTo(CatalogueEventKind.UPSERTED);
    assertThat(copy.writerSchemas()).isEqualTo(codec.writerSchemas());
  }

  @Test
  void mutatedEvolvedRecordsOnlyEverDecodeOrEndInInvalidRecordException() {
    // Resolution skips writer-only records, fixed, arrays, maps and enums: those decoder paths get fuzzed too.
    Schema writer = WriterSchemas.WITH_FIELDS_THE_JOB_REMOVED;
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY, writer);
    byte[] valid = WriterSchemas.naked(writer, WriterSchemas.withRemovedFields(writer, WriterSchemas.event(writer, "p-1")).build());
    DecodeFuzzer.mutations(codec, valid, 21, 5_000);
    DecodeFuzzer.randomBytes(codec, valid, 22, 5_000);
  }

  private static ByteBuffer utf8(String text) {
    return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String hex(long fingerprint) {
    return String.format("0x%016x", fingerprint);
  }
}
