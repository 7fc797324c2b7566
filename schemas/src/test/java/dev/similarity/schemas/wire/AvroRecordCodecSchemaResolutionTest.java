package dev.similarity.schemas.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.schemas.Availability;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventKind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/** Divolte mode: the producer's schema is older than ours and known from configuration. */
class AvroRecordCodecSchemaResolutionTest {

  private static final Schema V1 = load("older-schemas/CatalogueEvent-v1.avsc");

  @Test
  void readsNakedRecordOfOlderWriterSchemaFillingDefaults() throws Exception {
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY, V1);
    CatalogueEvent event = codec.decode(nakedV1("p-77"));

    assertEquals("p-77", event.getProductId());
    assertEquals(CatalogueEventKind.IMAGE_CHANGED, event.getKind());
    assertEquals(11L, event.getCatalogueVersion());
    assertEquals("https://img.example.com/p-77.png", event.getImageUrl());
    assertEquals(List.of("Home", "Lamps"), event.getCategoryPath());
    // Fields the old writer did not have take the current schema's defaults.
    assertEquals(false, event.getDetectedCorruption());
    assertNull(event.getBrand());
    assertNull(event.getPrice());
    assertEquals(Availability.UNKNOWN, event.getAvailability());
    assertTrue(event.getAttributes().isEmpty());
  }

  @Test
  void misreadsNothingWhenOlderWriterIsNotConfigured() {
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY);
    // Naked bytes carry no schema: reading them with the wrong one must fail, not produce a wrong event.
    assertThrows(InvalidRecordException.class, () -> codec.decode(nakedV1("p-77")));
  }

  @Test
  void readsSingleObjectRecordsOfBothRegisteredSchemas() throws Exception {
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT, V1);
    byte[] naked = nakedV1("p-5");
    byte[] single = new byte[naked.length + 10];
    single[0] = (byte) 0xC3;
    single[1] = 0x01;
    long fingerprint = SchemaNormalization.parsingFingerprint64(V1);
    for (int i = 0; i < 8; i++) single[2 + i] = (byte) (fingerprint >>> (8 * i));
    System.arraycopy(naked, 0, single, 10, naked.length);

    assertEquals("p-5", codec.decode(single).getProductId());
    CatalogueEvent current = dev.similarity.schemas.SampleRecords.upsert("p-6").build();
    assertEquals(current, codec.decode(codec.encode(current)));

    InvalidRecordException unknown = assertThrows(InvalidRecordException.class,
        () -> AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT).decode(single));
    assertTrue(unknown.getMessage().contains(String.format("fingerprint 0x%016x is unknown", fingerprint)),
        unknown.getMessage());
  }

  @Test
  void mutatedOlderRecordsOnlyEverDecodeOrEndInInvalidRecordException() throws Exception {
    // Resolution skips the writer-only field legacySku: the skipping paths of the decoder get exercised too.
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY, V1);
    DecodeFuzzer.mutations(codec, nakedV1("p-77"), 11, 5_000);
    DecodeFuzzer.randomBytes(codec, nakedV1("p-77"), 12, 5_000);
  }

  @Test
  void refusesToEncodeWhenConfiguredForAForeignNakedWriter() {
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY, V1);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> codec.encode(dev.similarity.schemas.SampleRecords.upsert("p-1").build()));
    assertTrue(e.getMessage().contains("cannot write them"), e.getMessage());
  }

  @Test
  void refusesIncompatibleWriterSchemaAtConstruction() {
    Schema incompatible = load("older-schemas/CatalogueEvent-incompatible.avsc");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY, incompatible));
    assertTrue(e.getMessage().contains("cannot be read as dev.similarity.schemas.CatalogueEvent"), e.getMessage());
    assertTrue(e.getMessage().contains("productId"), e.getMessage());
  }

  @Test
  void sameSchemaGivenExplicitlyBehavesAsTheClassSchema() throws Exception {
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(
        CatalogueEvent.class, AvroWireFormat.NAKED_BINARY, CatalogueEvent.getClassSchema());
    CatalogueEvent event = dev.similarity.schemas.SampleRecords.upsert("p-1").build();
    assertEquals(event, codec.decode(codec.encode(event)));
  }

  private static byte[] nakedV1(String productId) throws IOException {
    GenericRecord record = new GenericData.Record(V1);
    record.put("eventId", "e-" + productId);
    record.put("eventType", "catalogue");
    record.put("timestamp", 1_700_000_000_000L);
    record.put("clientTimestamp", 1_700_000_000_000L);
    record.put("detectedDuplicate", false);
    record.put("firstInSession", true);
    record.put("remoteHost", "10.0.0.1");
    record.put("productId", productId);
    record.put("legacySku", "SKU-" + productId);
    record.put("kind", new GenericData.EnumSymbol(V1.getField("kind").schema(), "IMAGE_CHANGED"));
    record.put("catalogueVersion", 11L);
    record.put("imageUrl", "https://img.example.com/" + productId + ".png");
    record.put("categoryPath", List.of("Home", "Lamps"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(V1).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  private static Schema load(String resource) {
    try (InputStream in = AvroRecordCodecSchemaResolutionTest.class.getClassLoader().getResourceAsStream(resource)) {
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new IllegalStateException(resource, e);
    }
  }
}
