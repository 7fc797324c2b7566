package dev.similarity.schemas.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventKind;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.NeighbourList;
import dev.similarity.schemas.Price;
import dev.similarity.schemas.SampleRecords;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class AvroRecordCodecRoundTripTest {

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void roundTripsEveryRecordType(AvroWireFormat format) throws Exception {
    CatalogueEvent event = SampleRecords.upsert("p-1").build();
    assertEquals(event, AvroRecordCodec.of(CatalogueEvent.class, format).decode(
        AvroRecordCodec.of(CatalogueEvent.class, format).encode(event)));

    NeighbourList list = SampleRecords.neighbourList("p-1");
    AvroRecordCodec<NeighbourList> lists = AvroRecordCodec.of(NeighbourList.class, format);
    assertEquals(list, lists.decode(lists.encode(list)));

    DeadLetter deadLetter = SampleRecords.deadLetter().build();
    AvroRecordCodec<DeadLetter> deadLetters = AvroRecordCodec.of(DeadLetter.class, format);
    assertEquals(deadLetter, deadLetters.decode(deadLetters.encode(deadLetter)));
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void roundTripsMinimalRemovalWithDefaults(AvroWireFormat format) throws Exception {
    CatalogueEvent removal = CatalogueEvent.newBuilder()
        .setEventId("e-1").setTimestamp(1).setClientTimestamp(1).setProductId("p-9")
        .setKind(CatalogueEventKind.REMOVED).setCatalogueVersion(3).build();
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, format);
    CatalogueEvent decoded = codec.decode(codec.encode(removal));
    assertEquals(removal, decoded);
    assertEquals("catalogue", decoded.getEventType());
    assertTrue(decoded.getAttributes().isEmpty());
  }

  @Test
  void singleObjectBytesAreAvrosOwnSingleObjectEncoding() throws Exception {
    CatalogueEvent event = SampleRecords.upsert("p-1").build();
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT);
    ByteBuffer avrosOwn = event.toByteBuffer();
    byte[] avrosBytes = new byte[avrosOwn.remaining()];
    avrosOwn.get(avrosBytes);
    assertArrayEquals(avrosBytes, codec.encode(event));
    assertEquals(event, CatalogueEvent.fromByteBuffer(ByteBuffer.wrap(codec.encode(event))));
    assertEquals(event, codec.decode(avrosBytes));
  }

  @Test
  void nakedBinaryIsSingleObjectWithoutItsTenByteHeader() {
    CatalogueEvent event = SampleRecords.upsert("p-1").build();
    byte[] naked = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY).encode(event);
    byte[] single = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT).encode(event);
    assertEquals(single.length, naked.length + 10);
    assertArrayEquals(naked, java.util.Arrays.copyOfRange(single, 10, single.length));
  }

  @Test
  void keepsDecimalPriceExact() throws Exception {
    CatalogueEvent event = SampleRecords.upsert("p-1")
        .setPrice(Price.newBuilder().setAmount(new BigDecimal("12.99")).setCurrency("EUR").build()).build();
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY);
    BigDecimal amount = codec.decode(codec.encode(event)).getPrice().getAmount();
    assertEquals(0, amount.compareTo(new BigDecimal("12.99")));
    assertEquals(4, amount.scale());
  }

  @Test
  void refusesToEncodePriceWithMoreThanFourDecimals() {
    CatalogueEvent event = SampleRecords.upsert("p-1")
        .setPrice(Price.newBuilder().setAmount(new BigDecimal("0.00001")).setCurrency("EUR").build()).build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY).encode(event));
    assertTrue(e.getMessage().contains("cannot encode CatalogueEvent") && e.getMessage().contains("scale"), e.getMessage());
  }

  @Test
  void refusesToEncodeRecordWithNullRequiredField() {
    CatalogueEvent event = SampleRecords.upsert("p-1").build();
    event.setProductId(null);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.SINGLE_OBJECT).encode(event));
    assertTrue(e.getMessage().contains("productId"), e.getMessage());
  }

  @ParameterizedTest
  @EnumSource(AvroWireFormat.class)
  void survivesJavaSerializationAsFlinkShipsIt(AvroWireFormat format) throws Exception {
    AvroRecordCodec<CatalogueEvent> codec = AvroRecordCodec.of(CatalogueEvent.class, format);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(codec);
    }
    @SuppressWarnings("unchecked")
    AvroRecordCodec<CatalogueEvent> copy = (AvroRecordCodec<CatalogueEvent>)
        new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray())).readObject();
    CatalogueEvent event = SampleRecords.upsert("p-1").build();
    assertEquals(event, copy.decode(codec.encode(event)));
    assertEquals(format, copy.format());
  }
}
