package dev.similarity.schemas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;

/**
 * DeadLetter gained truncated, the original's sizes and SHA-256 digests: optional fields with
 * defaults, so dead letters written before and readers built before both keep working.
 */
class DeadLetterSchemaEvolutionTest {

  private static final Schema V1 = load("older-schemas/DeadLetter-v1.avsc");
  private static final Schema CURRENT = DeadLetter.getClassSchema();

  @Test
  void currentAndFirstSchemasReadEachOther() {
    assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
        SchemaCompatibility.checkReaderWriterCompatibility(CURRENT, V1).getType());
    assertEquals(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE,
        SchemaCompatibility.checkReaderWriterCompatibility(V1, CURRENT).getType());
  }

  @Test
  void deadLettersWrittenBeforeReadAsWholeAndUntruncated() throws Exception {
    GenericRecord old = new GenericData.Record(V1);
    old.put("originalKey", ByteBuffer.wrap(new byte[] {'p', '-', '1'}));
    old.put("originalValue", ByteBuffer.wrap(new byte[] {1, 2, 3}));
    old.put("sourceTopic", "catalogue-events");
    old.put("stage", "decode");
    old.put("reason", new GenericData.EnumSymbol(V1.getField("reason").schema(), "MALFORMED_RECORD"));
    old.put("errorClass", "x.Y");
    old.put("failedAt", 1L);
    byte[] naked = write(V1, old);

    DeadLetter read = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.NAKED_BINARY, V1).decode(naked);
    assertArrayEquals(new byte[] {1, 2, 3}, read.getOriginalValue().array());
    assertFalse(read.getTruncated());
    assertNull(read.getOriginalValueBytes());
    assertNull(read.getOriginalValueSha256());
  }

  @Test
  void readersBuiltBeforeReadNewDeadLettersSkippingTheNewFields() throws Exception {
    DeadLetter current = SampleRecords.deadLetter().setTruncated(true).setOriginalValueBytes(3_000_000L)
        .setOriginalValueSha256("ab".repeat(32)).setOriginalKeyBytes(3L).setOriginalKeySha256("cd".repeat(32)).build();
    byte[] naked = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.NAKED_BINARY).encode(current);

    GenericRecord old = new GenericDatumReader<GenericRecord>(CURRENT, V1)
        .read(null, DecoderFactory.get().binaryDecoder(naked, null));
    assertEquals("image for product p-1 is 41 MB, over embedding.image.max-bytes (10 MB)", old.get("errorMessage").toString());
    assertEquals(current.getFailedAt(), old.get("failedAt"));
    assertEquals(Arrays.toString(new byte[] {1, 2, 3}), Arrays.toString(((ByteBuffer) old.get("originalValue")).array()));
    assertNull(old.getSchema().getField("truncated"));
  }

  private static byte[] write(Schema schema, GenericRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  private static Schema load(String resource) {
    try (InputStream in = DeadLetterSchemaEvolutionTest.class.getClassLoader().getResourceAsStream(resource)) {
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new IllegalStateException(resource, e);
    }
  }
}
