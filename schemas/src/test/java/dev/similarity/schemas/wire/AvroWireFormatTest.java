package dev.similarity.schemas.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AvroWireFormatTest {

  @Test
  void parsesConfigSpellings() {
    assertEquals(AvroWireFormat.NAKED_BINARY, AvroWireFormat.fromConfigValue("x", "naked-binary"));
    assertEquals(AvroWireFormat.NAKED_BINARY, AvroWireFormat.fromConfigValue("x", "NAKED_BINARY"));
    assertEquals(AvroWireFormat.SINGLE_OBJECT, AvroWireFormat.fromConfigValue("x", " Single-Object "));
  }

  @Test
  void refusesUnknownValueNamingSettingAndChoices() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AvroWireFormat.fromConfigValue("catalogue.wire-format", "confluent"));
    assertEquals("catalogue.wire-format is 'confluent'; use one of naked-binary, single-object", e.getMessage());
  }

  @Test
  void catalogueEventsDefaultToDivoltesNakedBinary() {
    assertEquals(AvroWireFormat.NAKED_BINARY, AvroWireFormat.CATALOGUE_EVENTS_DEFAULT);
    assertTrue(AvroWireFormat.OUTPUT_DEFAULT == AvroWireFormat.SINGLE_OBJECT);
  }
}
