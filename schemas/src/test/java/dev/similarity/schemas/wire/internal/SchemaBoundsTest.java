package dev.similarity.schemas.wire.internal;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.NeighbourList;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class SchemaBoundsTest {

  @Test
  void acceptsTheProjectsSchemas() {
    assertDoesNotThrow(() -> SchemaBounds.requireArrayItemsTakeBytes(CatalogueEvent.getClassSchema()));
    assertDoesNotThrow(() -> SchemaBounds.requireArrayItemsTakeBytes(NeighbourList.getClassSchema()));
    assertDoesNotThrow(() -> SchemaBounds.requireArrayItemsTakeBytes(DeadLetter.getClassSchema()));
  }

  @Test
  void refusesArrayOfEmptyRecordsNamingTheField() {
    Schema schema = new Schema.Parser().parse("""
        {"type": "record", "name": "Outer", "fields": [
          {"name": "inner", "type": {"type": "map", "values": {"type": "array",
             "items": {"type": "record", "name": "Empty", "fields": [{"name": "n", "type": "null"}]}}}}]}""");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SchemaBounds.requireArrayItemsTakeBytes(schema));
    assertTrue(e.getMessage().startsWith("array Outer.inner{} has items"), e.getMessage());
  }

  @Test
  void acceptsArrayOfRecordsWithOneNonEmptyField() {
    Schema schema = new Schema.Parser().parse("""
        {"type": "record", "name": "Outer", "fields": [
          {"name": "items", "type": {"type": "array",
             "items": {"type": "record", "name": "Item", "fields": [
               {"name": "n", "type": "null"}, {"name": "flag", "type": "boolean"}]}}}]}""");
    assertDoesNotThrow(() -> SchemaBounds.requireArrayItemsTakeBytes(schema));
  }

  @Test
  void describesCompatibilityPointerByFieldNames() {
    assertEquals("productId (/fields/10/type)",
        SchemaBounds.describeLocation(CatalogueEvent.getClassSchema(), "/fields/10/type"));
    assertEquals("neighbours.score (/fields/1/type/items/fields/1/type)",
        SchemaBounds.describeLocation(NeighbourList.getClassSchema(), "/fields/1/type/items/fields/1/type"));
  }
}
