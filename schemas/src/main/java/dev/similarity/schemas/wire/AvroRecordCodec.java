package dev.similarity.schemas.wire;

import dev.similarity.schemas.wire.internal.BoundedBinaryDecoder;
import dev.similarity.schemas.wire.internal.SchemaBounds;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Turns one generated Avro record into the bytes of one Kafka record value and back, in one
 * {@link AvroWireFormat}.
 *
 * <p>Decoding never trusts the input: anything that is not exactly one record of the expected type
 * (empty, truncated, trailing bytes, an unknown schema fingerprint, a length prefix larger than the
 * input, ...) ends in an {@link InvalidRecordException} that says what was wrong, and no input can
 * make it allocate more than a small multiple of its own size.
 *
 * <p>Serializable for use inside Flink functions: only the record class, the format and the writer
 * schema's JSON travel; schemas, readers and writers are rebuilt on first use. Safe to share
 * between threads.
 */
public final class AvroRecordCodec<T extends SpecificRecord> implements Serializable {

  private static final long serialVersionUID = 1L;

  private static final byte MARKER_0 = (byte) 0xC3;
  private static final byte MARKER_1 = (byte) 0x01;
  private static final int SINGLE_OBJECT_HEADER_BYTES = 10;

  private final Class<T> recordType;
  private final AvroWireFormat format;
  /** Null when the writer schema is the record class's own schema. */
  private final String writerSchemaJson;

  private transient volatile Machinery<T> machinery;

  private AvroRecordCodec(Class<T> recordType, AvroWireFormat format, String writerSchemaJson) {
    this.recordType = Objects.requireNonNull(recordType, "recordType");
    this.format = Objects.requireNonNull(format, "format");
    this.writerSchemaJson = writerSchemaJson;
    machinery(); // fail at construction, not on the first record
  }

  /** A codec whose writer schema is the record class's own schema. */
  public static <T extends SpecificRecord> AvroRecordCodec<T> of(Class<T> recordType, AvroWireFormat format) {
    return new AvroRecordCodec<>(recordType, format, null);
  }

  /**
   * A codec that reads records written with {@code writerSchema} and resolves them to the record
   * class's schema (fields the writer lacks take their defaults, fields the reader lacks are
   * skipped).
   *
   * <ul>
   *   <li>{@link AvroWireFormat#NAKED_BINARY}: every value is taken to be written with
   *       {@code writerSchema} (Divolte's mode: the writer schema comes from configuration). If it
   *       differs from the class's schema the codec only decodes; {@link #encode} refuses.
   *   <li>{@link AvroWireFormat#SINGLE_OBJECT}: {@code writerSchema} is accepted in addition to the
   *       class's own schema, told apart by fingerprint; {@link #encode} writes the class's schema.
   * </ul>
   *
   * @throws IllegalArgumentException if records written with {@code writerSchema} cannot be read
   *     as the record class
   */
  public static <T extends SpecificRecord> AvroRecordCodec<T> of(
      Class<T> recordType, AvroWireFormat format, Schema writerSchema) {
    Objects.requireNonNull(writerSchema, "writerSchema");
    return new AvroRecordCodec<>(recordType, format, writerSchema.toString());
  }

  public Class<T> recordType() {
    return recordType;
  }

  public AvroWireFormat format() {
    return format;
  }

  /** The schema records are decoded into: the record class's own. */
  public Schema readerSchema() {
    return machinery().readerSchema;
  }

  /** The schema naked records are expected to be written with, and the extra one single-object accepts. */
  public Schema writerSchema() {
    return machinery().writerSchema;
  }

  /**
   * @throws IllegalArgumentException if the record cannot be encoded (a required field is null, a
   *     decimal has more digits than its schema allows, ...)
   * @throws IllegalStateException if this codec decodes naked records of a foreign writer schema
   */
  public byte[] encode(T record) {
    Objects.requireNonNull(record, "record");
    Machinery<T> m = machinery();
    if (format == AvroWireFormat.NAKED_BINARY && m.writerSchemaIsForeign) {
      throw new IllegalStateException("this codec reads naked " + recordType.getSimpleName()
          + " records written with a different schema (fingerprint " + hex(m.writerFingerprint)
          + ") and cannot write them; encode with AvroRecordCodec.of(" + recordType.getSimpleName()
          + ".class, NAKED_BINARY)");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    if (format == AvroWireFormat.SINGLE_OBJECT) {
      out.write(MARKER_0);
      out.write(MARKER_1);
      long fingerprint = m.readerFingerprint;
      for (int i = 0; i < 8; i++) out.write((int) (fingerprint >>> (8 * i)));
    }
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      m.datumWriter.write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("cannot encode " + recordType.getSimpleName() + ": " + describe(e), e);
    }
    return out.toByteArray();
  }

  /**
   * Decodes exactly one record from {@code bytes}.
   *
   * @throws InvalidRecordException if {@code bytes} is null, empty, or not exactly one record of
   *     this type in this format
   */
  public T decode(byte[] bytes) throws InvalidRecordException {
    if (bytes == null) {
      throw invalid(0, "the value is null (a tombstone?), not a " + recordType.getSimpleName(), null);
    }
    if (bytes.length == 0) {
      throw invalid(0, "the value is empty", null);
    }
    Machinery<T> m = machinery();
    DatumReader<T> reader;
    int bodyOffset;
    if (format == AvroWireFormat.SINGLE_OBJECT) {
      if (bytes[0] != MARKER_0 || (bytes.length > 1 && bytes[1] != MARKER_1)) {
        throw invalid(bytes.length, "it does not start with the single-object marker C3 01 but with "
            + leadingBytes(bytes) + "; if the producer writes naked Avro binary, set the wire format to "
            + AvroWireFormat.NAKED_BINARY, null);
      }
      if (bytes.length < SINGLE_OBJECT_HEADER_BYTES) {
        throw invalid(bytes.length, "truncated single-object header: the marker and schema fingerprint take "
            + SINGLE_OBJECT_HEADER_BYTES + " bytes", null);
      }
      long fingerprint = 0;
      for (int i = 7; i >= 0; i--) fingerprint = fingerprint << 8 | (bytes[2 + i] & 0xff);
      reader = m.readersByFingerprint.get(fingerprint);
      if (reader == null) {
        throw invalid(bytes.length, "its writer schema fingerprint " + hex(fingerprint) + " is unknown; this codec knows "
            + m.readersByFingerprint.keySet().stream().map(AvroRecordCodec::hex).collect(Collectors.joining(", "))
            + ". Give the producer's schema to AvroRecordCodec.of(" + recordType.getSimpleName()
            + ".class, SINGLE_OBJECT, writerSchema)", null);
      }
      bodyOffset = SINGLE_OBJECT_HEADER_BYTES;
    } else {
      reader = m.nakedReader;
      bodyOffset = 0;
    }

    BoundedBinaryDecoder decoder = new BoundedBinaryDecoder(bytes, bodyOffset, bytes.length - bodyOffset);
    T record;
    try {
      record = reader.read(null, decoder);
    } catch (IOException | RuntimeException e) {
      throw invalid(bytes.length, describe(e) + nakedHint(bytes), e);
    }
    if (decoder.remaining() > 0) {
      throw invalid(bytes.length, decoder.remaining() + " trailing bytes after a complete record ending at offset "
          + decoder.position() + ": the producer's schema is not the configured writer schema, or the value holds"
          + " more than one record" + nakedHint(bytes), null);
    }
    return record;
  }

  @Override
  public String toString() {
    Machinery<T> m = machinery();
    return "AvroRecordCodec[" + recordType.getSimpleName() + ", " + format.configValue()
        + (m.writerSchemaIsForeign ? ", writer schema " + hex(m.writerFingerprint) : "") + "]";
  }

  private InvalidRecordException invalid(int length, String problem, Throwable cause) {
    return new InvalidRecordException("cannot decode a " + recordType.getSimpleName() + " from " + length
        + " bytes of " + format.configValue() + " Avro: " + problem, cause);
  }

  private String nakedHint(byte[] bytes) {
    if (format == AvroWireFormat.NAKED_BINARY && bytes.length >= 2 && bytes[0] == MARKER_0 && bytes[1] == MARKER_1) {
      return " (the value starts with C3 01, the single-object marker: if the producer writes single-object"
          + " encoding, set the wire format to " + AvroWireFormat.SINGLE_OBJECT + ")";
    }
    return "";
  }

  private static String describe(Throwable e) {
    String message = e.getMessage();
    return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
  }

  private static String leadingBytes(byte[] bytes) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < Math.min(2, bytes.length); i++) {
      if (i > 0) out.append(' ');
      out.append(String.format("%02X", bytes[i] & 0xff));
    }
    return out.toString();
  }

  private static String hex(long fingerprint) {
    return String.format("0x%016x", fingerprint);
  }

  private Machinery<T> machinery() {
    Machinery<T> m = machinery;
    if (m == null) {
      m = new Machinery<>(recordType, writerSchemaJson);
      machinery = m; // racing threads build equal copies; any of them will do
    }
    return m;
  }

  /** Everything derived from the serialized fields; rebuilt after deserialization. */
  private static final class Machinery<T extends SpecificRecord> {
    final Schema readerSchema;
    final Schema writerSchema;
    final long readerFingerprint;
    final long writerFingerprint;
    final boolean writerSchemaIsForeign;
    final DatumReader<T> nakedReader;
    final Map<Long, DatumReader<T>> readersByFingerprint = new LinkedHashMap<>();
    final SpecificDatumWriter<T> datumWriter;

    Machinery(Class<T> recordType, String writerSchemaJson) {
      // The class's own model carries its logical-type conversions (decimal amounts).
      SpecificData model = SpecificData.getForClass(recordType);
      readerSchema = model.getSchema(recordType);
      if (readerSchema.getType() != Schema.Type.RECORD) {
        throw new IllegalArgumentException(recordType.getName() + " is not a generated Avro record class");
      }
      writerSchema = writerSchemaJson == null ? readerSchema : new Schema.Parser().parse(writerSchemaJson);
      readerFingerprint = SchemaNormalization.parsingFingerprint64(readerSchema);
      writerFingerprint = SchemaNormalization.parsingFingerprint64(writerSchema);
      writerSchemaIsForeign = writerFingerprint != readerFingerprint;
      SchemaBounds.requireArrayItemsTakeBytes(readerSchema);
      SchemaBounds.requireArrayItemsTakeBytes(writerSchema);
      if (writerSchemaIsForeign) {
        SchemaCompatibility.SchemaPairCompatibility compatibility =
            SchemaCompatibility.checkReaderWriterCompatibility(readerSchema, writerSchema);
        if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
          throw new IllegalArgumentException("records written with writer schema " + writerSchema.getFullName()
              + " (fingerprint " + hex(writerFingerprint) + ") cannot be read as " + recordType.getName() + ": "
              + compatibility.getResult().getIncompatibilities().stream()
                  .map(i -> i.getMessage() + " at " + SchemaBounds.describeLocation(readerSchema, i.getLocation()))
                  .collect(Collectors.joining("; ")));
        }
      }

      nakedReader = new SpecificDatumReader<>(writerSchema, readerSchema, model);
      readersByFingerprint.put(readerFingerprint, new SpecificDatumReader<>(readerSchema, readerSchema, model));
      readersByFingerprint.putIfAbsent(writerFingerprint, nakedReader);
      datumWriter = new SpecificDatumWriter<>(readerSchema, model);
    }
  }
}
