package dev.similarity.schemas;

import dev.similarity.schemas.wire.AvroWireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;

/**
 * Producers' CatalogueEvent schemas (test resources under {@code writer-schemas/}: copies of
 * {@code src/main/avro/CatalogueEvent.avsc} with one evolution each) and records written with them
 * by Avro's own encoders, as a producer would write them.
 */
public final class WriterSchemas {

  public static final Schema AVAILABILITY_ON_SALE = load("CatalogueEvent-availability-on-sale");
  public static final Schema WITHOUT_NEWER_FIELDS = load("CatalogueEvent-without-newer-fields");
  public static final Schema WITH_FIELDS_THE_JOB_REMOVED = load("CatalogueEvent-with-fields-the-job-removed");
  public static final Schema PROMOTED_TYPES = load("CatalogueEvent-promoted-types");
  public static final Schema UNION_CHANGES = load("CatalogueEvent-union-changes");
  public static final Schema KIND_ARCHIVED = load("CatalogueEvent-kind-archived");
  /** The job's CatalogueEvent before events could carry their own embedding. */
  public static final Schema BEFORE_EMBEDDING = loadResource("older-schemas/CatalogueEvent-before-embedding.avsc");
  /** productId is a long: no promotion makes a string of it. */
  public static final Schema PRODUCT_ID_LONG = loadResource("older-schemas/CatalogueEvent-incompatible.avsc");

  private WriterSchemas() {}

  /** A builder with every field the writer requires set for product {@code productId}; defaults fill the rest. */
  public static GenericRecordBuilder event(Schema writer, String productId) {
    GenericRecordBuilder builder = new GenericRecordBuilder(writer)
        .set("eventId", "evt-" + productId)
        .set("productId", productId)
        .set("kind", symbol(writer, "kind", "UPSERTED"))
        .set("imageUrl", "https://images.example.com/p/" + productId + ".jpg");
    boolean narrowTimes = writer.getField("timestamp").schema().getType() == Schema.Type.INT;
    builder.set("timestamp", narrowTimes ? (Object) 1_700_000_000 : (Object) 1_763_700_000_000L);
    builder.set("clientTimestamp", narrowTimes ? (Object) 1_699_999_999 : (Object) 1_763_699_999_500L);
    builder.set("catalogueVersion", narrowTimes ? (Object) 7 : (Object) 7L);
    return builder;
  }

  /** Sets every field of {@link #WITH_FIELDS_THE_JOB_REMOVED} that the job's schema lacks. */
  public static GenericRecordBuilder withRemovedFields(Schema writer, GenericRecordBuilder builder) {
    Schema dimensions = writer.getField("dimensions").schema().getTypes().get(1);
    GenericRecord size = new GenericData.Record(dimensions);
    size.put("widthMm", 210.0);
    size.put("heightMm", 297.5);
    size.put("unit", new GenericData.Fixed(dimensions.getField("unit").schema(), new byte[] {'m', 'm'}));
    return builder
        .set("legacySku", "SKU-1")
        .set("weightGrams", 840)
        .set("dimensions", size)
        .set("tags", List.of("summer", "sale", "new"))
        .set("localisedTitles", Map.of("de", "Lampe", "fr", "Lampe"))
        .set("condition", symbol(writer, "condition", "USED"));
  }

  /** The enum symbol {@code symbol} of the writer's enum field {@code field}. */
  public static GenericData.EnumSymbol symbol(Schema writer, String field, String symbol) {
    return new GenericData.EnumSymbol(writer.getField(field).schema(), symbol);
  }

  public static byte[] naked(Schema writer, GenericRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    try {
      new GenericDatumWriter<GenericRecord>(writer).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Avro's own single-object encoder: marker, the writer schema's fingerprint, the body. */
  public static byte[] singleObject(Schema writer, GenericRecord record) {
    try {
      return new BinaryMessageEncoder<GenericRecord>(GenericData.get(), writer).encode(record).array();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] encode(AvroWireFormat format, Schema writer, GenericRecord record) {
    return format == AvroWireFormat.NAKED_BINARY ? naked(writer, record) : singleObject(writer, record);
  }

  private static Schema load(String name) {
    return loadResource("writer-schemas/" + name + ".avsc");
  }

  private static Schema loadResource(String resource) {
    try (InputStream in = WriterSchemas.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) throw new IllegalStateException("no test resource " + resource);
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException(resource, e);
    }
  }
}
