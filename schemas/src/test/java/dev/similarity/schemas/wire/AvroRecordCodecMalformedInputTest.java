package dev.similarity.schemas.wire;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.NeighbourList;
import dev.similarity.schemas.SampleRecords;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class AvroRecordCodecMalformedInputTest {

  private final AvroRecordCodec<CatalogueEvent> naked = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY);
  private final AvroRecordCodec<CatalogueEvent> single = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT);

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void refusesNullValueAsPossibleTombstone(AvroWireFormat format) {
    assertRefused(AvroRecordCodec.of(CatalogueEvent.class, format), null, "the value is null (a tombstone?)");
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void refusesEmptyValue(AvroWireFormat format) {
    assertRefused(AvroRecordCodec.of(CatalogueEvent.class, format), new byte[0], "the value is empty");
  }

  @Test
  void refusesSingleObjectWithoutMarkerSuggestingNakedBinary() {
    byte[] nakedBytes = naked.encode(SampleRecords.upsert("p-1").build());
    assertRefused(single, nakedBytes, "does not start with the single-object marker C3 01");
    assertRefused(single, nakedBytes, "set the wire format to NAKED_BINARY");
  }

  @Test
  void refusesSingleObjectHeaderCutShort() {
    assertRefused(single, new byte[] {(byte) 0xC3, 0x01, 1, 2, 3}, "truncated single-object header");
  }

  @Test
  void refusesSingleObjectWithUnknownFingerprint() {
    byte[] bytes = single.encode(SampleRecords.upsert("p-1").build());
    bytes[5] ^= 0x5a;
    assertRefused(single, bytes, "is unknown; this codec knows 0x");
  }

  @Test
  void nakedReaderPointsOutSingleObjectInput() {
    byte[] bytes = single.encode(SampleRecords.upsert("p-1").build());
    assertRefused(naked, bytes, "set the wire format to SINGLE_OBJECT");
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void refusesEveryTruncationOfAValidRecord(AvroWireFormat format) {
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, format);
    byte[] whole = codec.encode(SampleRecords.upsert("p-1").build());
    for (int length = 1; length < whole.length; length++) {
      byte[] prefix = Arrays.copyOf(whole, length);
      InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> codec.decode(prefix), "length " + length);
      assertTrue(e.getMessage().contains("truncated") || e.getMessage().contains("invalid"), e.getMessage());
    }
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void refusesTrailingBytes(AvroWireFormat format) {
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, format);
    byte[] whole = codec.encode(SampleRecords.upsert("p-1").build());
    byte[] longer = Arrays.copyOf(whole, whole.length + 3);
    assertRefused(codec, longer, "3 trailing bytes after a complete record ending at offset " + whole.length);
  }

  @Test
  void refusesTwoConcatenatedRecords() {
    byte[] one = naked.encode(SampleRecords.upsert("p-1").build());
    byte[] two = Arrays.copyOf(one, one.length * 2);
    System.arraycopy(one, 0, two, one.length, one.length);
    assertRefused(naked, two, "trailing bytes");
  }

  @Test
  void refusesStringLengthLargerThanInputWithoutAllocatingIt() throws IOException {
    // eventId announces ~2 GB; Avro's own decoder would allocate the array before noticing.
    byte[] bytes = avro(encoder -> {
      encoder.writeLong(Integer.MAX_VALUE - 8);
      encoder.writeFixed(new byte[] {'a', 'b', 'c'});
    });
    assertRefused(naked, bytes, "truncated: string at offset 0 announces 2147483639 bytes but only 3 remain");
  }

  @Test
  void refusesArrayCountLargerThanInputWithoutAllocatingIt() throws IOException {
    AvroRecordCodec<NeighbourList> codec = AvroRecordCodec.of(NeighbourList.class, AvroWireFormat.NAKED_BINARY);
    byte[] bytes = avro(encoder -> {
      encoder.writeString("p-1");
      encoder.writeLong(Integer.MAX_VALUE - 8); // neighbours: item count
      encoder.writeString("p-2");
    });
    assertRefused(codec, bytes, "array block at offset 4 announces 2147483639 items but only 4 bytes remain");
  }

  @Test
  void refusesSizedArrayBlockLargerThanInput() throws IOException {
    AvroRecordCodec<NeighbourList> codec = AvroRecordCodec.of(NeighbourList.class, AvroWireFormat.NAKED_BINARY);
    byte[] bytes = avro(encoder -> {
      encoder.writeString("p-1");
      encoder.writeLong(-1); // one item, block size follows
      encoder.writeLong(Long.MAX_VALUE / 2);
    });
    assertRefused(codec, bytes, "announces 4611686018427387903 bytes");
  }

  @Test
  void refusesNegativeStringLength() throws IOException {
    byte[] bytes = avro(encoder -> encoder.writeLong(-5));
    assertRefused(naked, bytes, "negative length -5");
  }

  @Test
  void refusesOverlongVarint() {
    byte[] bytes = new byte[12];
    Arrays.fill(bytes, (byte) 0xff);
    assertRefused(naked, bytes, "more than 10 bytes");
  }

  @Test
  void refusesEnumIndexOutOfRange() throws IOException {
    AvroRecordCodec<DeadLetter> codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.NAKED_BINARY);
    byte[] valid = codec.encode(SampleRecords.deadLetter().setErrorMessage(null).setProductId(null).build());
    DeadLetter decoded;
    try {
      decoded = codec.decode(valid);
    } catch (InvalidRecordException e) {
      throw new AssertionError(e);
    }
    // The reason's enum index sits right before: errorMessage null (1), errorClass, failedAt,
    // truncated, then the original's sizes and digests (null).
    byte[] tail = avro(encoder -> {
      encoder.writeIndex(0);
      encoder.writeString(decoded.getErrorClass());
      encoder.writeLong(decoded.getFailedAt());
      encoder.writeBoolean(false);
      for (int i = 0; i < 4; i++) encoder.writeIndex(0);
    });
    int reasonAt = valid.length - tail.length - 1;
    valid[reasonAt] = 2 * 40; // zig-zag 40: no such reason
    assertRefused(codec, valid, "40");
  }

  @Test
  void refusesInvalidBoolean() throws IOException {
    byte[] valid = naked.encode(SampleRecords.upsert("p-1").setPartyId(null).setRemoteHost("").build());
    byte[] prefix = avro(encoder -> {
      encoder.writeString("evt-p-1-7");
      encoder.writeString("catalogue");
      encoder.writeLong(1_763_700_000_000L);
      encoder.writeLong(1_763_699_999_500L);
      encoder.writeIndex(0);
      encoder.writeIndex(0);
    });
    valid[prefix.length] = 7; // detectedDuplicate
    assertRefused(naked, valid, "invalid boolean byte 7 at offset " + prefix.length);
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void randomGarbageOnlyEverEndsInInvalidRecordException(AvroWireFormat format) {
    AvroRecordCodec<CatalogueEvent> events = AvroRecordCodec.of(CatalogueEvent.class, format);
    DecodeFuzzer.randomBytes(events, events.encode(SampleRecords.upsert("p-1").build()), 1, 5_000);
    AvroRecordCodec<NeighbourList> lists = AvroRecordCodec.of(NeighbourList.class, format);
    DecodeFuzzer.randomBytes(lists, lists.encode(SampleRecords.neighbourList("p-1")), 2, 5_000);
    AvroRecordCodec<DeadLetter> deadLetters = AvroRecordCodec.of(DeadLetter.class, format);
    DecodeFuzzer.randomBytes(deadLetters, deadLetters.encode(SampleRecords.deadLetter().build()), 3, 5_000);
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void mutatedValidRecordsOnlyEverDecodeOrEndInInvalidRecordException(AvroWireFormat format) {
    AvroRecordCodec<CatalogueEvent> events = AvroRecordCodec.of(CatalogueEvent.class, format);
    DecodeFuzzer.mutations(events, events.encode(SampleRecords.upsert("p-1").build()), 4, 5_000);
    AvroRecordCodec<NeighbourList> lists = AvroRecordCodec.of(NeighbourList.class, format);
    DecodeFuzzer.mutations(lists, lists.encode(SampleRecords.neighbourList("p-1")), 5, 5_000);
    AvroRecordCodec<DeadLetter> deadLetters = AvroRecordCodec.of(DeadLetter.class, format);
    DecodeFuzzer.mutations(deadLetters, deadLetters.encode(SampleRecords.deadLetter().build()), 6, 5_000);
  }

  @Test
  void refusesSchemaWhoseArrayItemsCanTakeZeroBytes() {
    Schema schema = new Schema.Parser().parse("""
        {"type": "record", "name": "Nulls", "fields": [
          {"name": "many", "type": {"type": "array", "items": "null"}}]}""");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY, schema));
    assertTrue(e.getMessage().contains("Nulls.many"), e.getMessage());
  }

  private static void assertRefused(AvroRecordCodec<?> codec, byte[] bytes, String expectedInMessage) {
    InvalidRecordException e = assertThrows(InvalidRecordException.class, () -> codec.decode(bytes));
    assertTrue(e.getMessage().contains(expectedInMessage), "message was: " + e.getMessage());
    assertTrue(e.getMessage().startsWith("cannot decode a " + codec.recordType().getSimpleName() + " from "),
        e.getMessage());
  }

  private interface Writes {
    void to(BinaryEncoder encoder) throws IOException;
  }

  private static byte[] avro(Writes writes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    writes.to(encoder);
    encoder.flush();
    return out.toByteArray();
  }
}
