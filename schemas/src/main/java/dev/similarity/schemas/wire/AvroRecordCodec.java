package dev.similarity.schemas.wire;

import dev.similarity.schemas.wire.internal.BoundedBinaryDecoder;
import dev.similarity.schemas.wire.internal.SchemaBounds;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
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
 * <p>Records written with another schema than the record class's are resolved to it by Avro's own
 * rules ({@link SpecificDatumReader} with writer and reader schema, i.e. Avro's
 * {@code ResolvingDecoder}): fields the writer lacks take their defaults, fields the reader lacks
 * are skipped, int/long/float/double and string/bytes are promoted, enum symbols the reader lacks
 * read as the enum's default, unions are resolved branch by branch. Which writer schemas a codec
 * accepts is fixed when it is built, and each is checked then with
 * {@link SchemaCompatibility#checkReaderWriterCompatibility}.
 *
 * <p>Single-object records are matched to their writer schema by the CRC-64-AVRO fingerprint in
 * their header. Avro's {@code BinaryMessageDecoder} does the same lookup, but decodes with Avro's
 * unbounded {@code BinaryDecoder} and ignores trailing bytes; this codec keeps both guarantees
 * above for every writer schema.
 *
 * <p>Serializable for use inside Flink functions: only the record class, the format and the writer
 * schemas' JSON travel; schemas, readers and writers are rebuilt on first use. Safe to share
 * between threads.
 */
public final class AvroRecordCodec<T extends SpecificRecord> implements Serializable {

  private static final long serialVersionUID = 2L;

  private static final byte MARKER_0 = (byte) 0xC3;
  private static final byte MARKER_1 = (byte) 0x01;
  private static final int SINGLE_OBJECT_HEADER_BYTES = 10;

  private final Class<T> recordType;
  private final AvroWireFormat format;
  /** The writer schemas given besides the record class's own, as JSON; empty for the class's own only. */
  private final List<String> writerSchemaJsons;

  private transient volatile Machinery<T> machinery;

  private AvroRecordCodec(Class<T> recordType, AvroWireFormat format, List<String> writerSchemaJsons) {
    this.recordType = Objects.requireNonNull(recordType, "recordType");
    this.format = Objects.requireNonNull(format, "format");
    this.writerSchemaJsons = List.copyOf(writerSchemaJsons);
    machinery(); // fail at construction, not on the first record
  }

  /** A codec whose writer schema is the record class's own schema. */
  public static <T extends SpecificRecord> AvroRecordCodec<T> of(Class<T> recordType, AvroWireFormat format) {
    return new AvroRecordCodec<>(recordType, format, List.of());
  }

  /**
   * A codec that reads records written with {@code writerSchema}; the same as
   * {@link #of(Class, AvroWireFormat, Collection)} with that one schema.
   */
  public static <T extends SpecificRecord> AvroRecordCodec<T> of(
      Class<T> recordType, AvroWireFormat format, Schema writerSchema) {
    Objects.requireNonNull(writerSchema, "writerSchema");
    return of(recordType, format, List.of(writerSchema));
  }

  /**
   * A codec that reads records written with the producers' {@code writerSchemas} and resolves them
   * to the record class's schema by Avro's schema-resolution rules.
   *
   * <ul>
   *   <li>{@link AvroWireFormat#NAKED_BINARY}: at most one writer schema (naked bytes cannot say
   *       which schema wrote them); every value is taken to be written with it (Divolte's mode:
   *       the writer schema comes from configuration). None: the class's own. If it differs from
   *       the class's schema the codec only decodes; {@link #encode} refuses.
   *   <li>{@link AvroWireFormat#SINGLE_OBJECT}: each writer schema is accepted in addition to the
   *       class's own, told apart by fingerprint; a record with any other fingerprint is refused
   *       with an {@link UnknownWriterSchemaException}. {@link #encode} writes the class's schema.
   * </ul>
   *
   * Schemas with the same parsing fingerprint count once.
   *
   * @throws IllegalArgumentException if records written with one of {@code writerSchemas} cannot
   *     be read as the record class (the message names that schema's fingerprint and each
   *     incompatibility with the field it is at), or if more than one is given for naked binary
   */
  public static <T extends SpecificRecord> AvroRecordCodec<T> of(
      Class<T> recordType, AvroWireFormat format, Collection<Schema> writerSchemas) {
    Objects.requireNonNull(writerSchemas, "writerSchemas");
    return new AvroRecordCodec<>(recordType, format, writerSchemas.stream()
        .map(schema -> Objects.requireNonNull(schema, "a writer schema is null").toString())
        .toList());
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

  /**
   * The writer schemas this codec reads. Naked binary: the one schema every value is taken to be
   * written with. Single-object: every schema it knows by fingerprint, the record class's own first.
   */
  public List<Schema> writerSchemas() {
    Machinery<T> m = machinery();
    return format == AvroWireFormat.NAKED_BINARY ? List.of(m.nakedWriterSchema) : List.copyOf(m.writerSchemasByFingerprint.values());
  }

  /**
   * Why records written with {@code writer} cannot be read as {@code reader}, one sentence each naming
   * the field; empty when they can. Beyond Avro's {@link SchemaCompatibility} check: an array whose items
   * take no bytes (unbounded allocation on decode), and a logical type that differs between the two
   * (Avro's resolution ignores them: a decimal of another scale, a price written as a string, or a
   * timestamp in microseconds would be read as wrong values). A plain {@code long} and a
   * {@code timestamp-millis} long, or a plain string and a {@code uuid} one, stand for each other; a
   * decimal may be written with a smaller precision than the reader's.
   */
  public static List<String> readProblems(Schema reader, Schema writer) {
    List<String> problems = new ArrayList<>();
    try {
      SchemaBounds.requireArrayItemsTakeBytes(writer);
    } catch (IllegalArgumentException e) {
      problems.add(e.getMessage());
    }
    SchemaCompatibility.SchemaPairCompatibility compatibility = SchemaCompatibility.checkReaderWriterCompatibility(reader, writer);
    if (compatibility.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      compatibility.getResult().getIncompatibilities().forEach(i -> problems.add(
          i.getType().name().toLowerCase(Locale.ROOT).replace('_', ' ') + " " + i.getMessage()
              + " at " + SchemaBounds.describeLocation(reader, i.getLocation())));
      return problems;
    }
    logicalTypeProblems(reader, writer, reader.getName(), problems, new HashSet<>());
    return problems;
  }

  /** Walks the parts of {@code reader} that {@code writer} fills, as Avro's resolution pairs them. */
  private static void logicalTypeProblems(Schema reader, Schema writer, String path, List<String> problems, Set<String> seen) {
    if (writer.getType() == Schema.Type.UNION) {
      for (Schema branch : writer.getTypes()) {
        Schema target = reader.getType() == Schema.Type.UNION ? branchFor(reader, branch) : reader;
        if (target != null) logicalTypeProblems(target, branch, path, problems, seen);
      }
      return;
    }
    if (reader.getType() == Schema.Type.UNION) {
      Schema target = branchFor(reader, writer);
      if (target != null) logicalTypeProblems(target, writer, path, problems, seen);
      return;
    }
    switch (reader.getType()) {
      case RECORD -> {
        if (writer.getType() != Schema.Type.RECORD || !seen.add(reader.getFullName() + "<-" + writer.getFullName())) return;
        for (Schema.Field field : reader.getFields()) {
          Schema.Field written = writer.getField(field.name());
          for (String alias : field.aliases()) {
            if (written == null) written = writer.getField(alias);
          }
          if (written != null) logicalTypeProblems(field.schema(), written.schema(), path + "." + field.name(), problems, seen);
        }
      }
      case ARRAY -> {
        if (writer.getType() == Schema.Type.ARRAY) logicalTypeProblems(reader.getElementType(), writer.getElementType(), path + "[]", problems, seen);
      }
      case MAP -> {
        if (writer.getType() == Schema.Type.MAP) logicalTypeProblems(reader.getValueType(), writer.getValueType(), path + "{}", problems, seen);
      }
      default -> {
        if (!sameValues(reader, writer)) {
          problems.add("logical type mismatch at " + path + ": written as " + describe(writer) + ", read as " + describe(reader)
              + "; Avro would read its values as wrong ones");
        }
      }
    }
  }

  /**
   * Whether values written as {@code writer} read as the same values through {@code reader}'s logical
   * type: the same logical type by name (decimals: the same scale, the writer's precision at most the
   * reader's), or a plain type against one that only annotates it ({@code timestamp-millis} on a long,
   * {@code uuid} on a string).
   */
  private static boolean sameValues(Schema reader, Schema writer) {
    String read = logicalName(reader);
    String written = logicalName(writer);
    if (reader.getLogicalType() instanceof org.apache.avro.LogicalTypes.Decimal r
        && writer.getLogicalType() instanceof org.apache.avro.LogicalTypes.Decimal w) {
      return r.getScale() == w.getScale() && w.getPrecision() <= r.getPrecision();
    }
    if (Objects.equals(read, written)) return true;
    boolean annotationOnly = (read == null || written == null)
        && (("timestamp-millis".equals(read == null ? written : read) && reader.getType() == Schema.Type.LONG && writer.getType() == Schema.Type.LONG)
            || ("uuid".equals(read == null ? written : read) && reader.getType() == Schema.Type.STRING && writer.getType() == Schema.Type.STRING));
    return annotationOnly;
  }

  /**
   * The branch of reader union {@code union} that Avro resolves {@code written} to, in Avro's order: the
   * same type (and, if named, the same full name), then a record or other named type of the same type,
   * then the first branch {@code written} is promoted to (int to long, float or double; long to float or
   * double; float to double; string and bytes to each other). Null when none (then Avro's compatibility
   * check has already refused the pair).
   */
  private static Schema branchFor(Schema union, Schema written) {
    Schema sameType = null;
    for (Schema branch : union.getTypes()) {
      if (branch.getType() != written.getType()) continue;
      if (!isNamed(branch) || branch.getFullName().equals(written.getFullName())) return branch;
      if (sameType == null) sameType = branch;
    }
    if (sameType != null) return sameType;
    for (Schema branch : union.getTypes()) {
      if (promotes(written.getType(), branch.getType())) return branch;
    }
    return null;
  }

  private static boolean promotes(Schema.Type from, Schema.Type to) {
    return switch (from) {
      case INT -> to == Schema.Type.LONG || to == Schema.Type.FLOAT || to == Schema.Type.DOUBLE;
      case LONG -> to == Schema.Type.FLOAT || to == Schema.Type.DOUBLE;
      case FLOAT -> to == Schema.Type.DOUBLE;
      case STRING -> to == Schema.Type.BYTES;
      case BYTES -> to == Schema.Type.STRING;
      default -> false;
    };
  }

  private static boolean isNamed(Schema schema) {
    return schema.getType() == Schema.Type.RECORD || schema.getType() == Schema.Type.ENUM || schema.getType() == Schema.Type.FIXED;
  }

  private static String logicalName(Schema schema) {
    return schema.getLogicalType() == null ? null : schema.getLogicalType().getName();
  }

  private static String describe(Schema schema) {
    if (schema.getLogicalType() instanceof org.apache.avro.LogicalTypes.Decimal decimal) {
      return "decimal(" + decimal.getPrecision() + "," + decimal.getScale() + ") " + schema.getType().getName();
    }
    return schema.getLogicalType() == null ? "plain " + schema.getType().getName()
        : schema.getLogicalType().getName() + " " + schema.getType().getName();
  }

  /** The CRC-64-AVRO parsing fingerprint of {@code schema} as single-object encoding writes it, in the hex form messages use. */
  public static String fingerprintHex(Schema schema) {
    return hex(SchemaNormalization.parsingFingerprint64(schema));
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
          + " records written with a different schema (fingerprint " + hex(m.nakedWriterFingerprint)
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
   *     this type in this format; an {@link UnknownWriterSchemaException} if it is a single-object
   *     record whose writer schema fingerprint this codec was not given
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
        throw new UnknownWriterSchemaException(message(bytes.length, "its writer schema fingerprint " + hex(fingerprint)
            + " is unknown; this codec knows " + hex(m.readerFingerprint) + " (" + recordType.getSimpleName()
            + "'s own)" + m.readersByFingerprint.keySet().stream().filter(f -> f != m.readerFingerprint)
                .map(f -> ", " + hex(f)).collect(Collectors.joining())
            + ". Give the producer's schema to AvroRecordCodec.of(" + recordType.getSimpleName()
            + ".class, SINGLE_OBJECT, writerSchemas)"), fingerprint);
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
        + (format == AvroWireFormat.NAKED_BINARY && m.writerSchemaIsForeign
            ? ", writer schema " + hex(m.nakedWriterFingerprint) : "")
        + (format == AvroWireFormat.SINGLE_OBJECT && m.writerSchemasByFingerprint.size() > 1
            ? ", writer schemas " + m.writerSchemasByFingerprint.keySet().stream().map(AvroRecordCodec::hex)
                .collect(Collectors.joining(" ")) : "") + "]";
  }

  private InvalidRecordException invalid(int length, String problem, Throwable cause) {
    return new InvalidRecordException(message(length, problem), cause);
  }

  private String message(int length, String problem) {
    return "cannot decode a " + recordType.getSimpleName() + " from " + length + " bytes of " + format.configValue()
        + " Avro: " + problem;
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

  static String hex(long fingerprint) {
    return String.format("0x%016x", fingerprint);
  }

  private Machinery<T> machinery() {
    Machinery<T> m = machinery;
    if (m == null) {
      m = new Machinery<>(recordType, format, writerSchemaJsons);
      machinery = m; // racing threads build equal copies; any of them will do
    }
    return m;
  }

  /** Everything derived from the serialized fields; rebuilt after deserialization. */
  private static final class Machinery<T extends SpecificRecord> {
    final Schema readerSchema;
    final long readerFingerprint;
    /** The reader schema first, then each distinct given writer schema. */
    final Map<Long, Schema> writerSchemasByFingerprint = new LinkedHashMap<>();
    final Schema nakedWriterSchema;
    final long nakedWriterFingerprint;
    final boolean writerSchemaIsForeign;
    final DatumReader<T> nakedReader;
    final Map<Long, DatumReader<T>> readersByFingerprint = new LinkedHashMap<>();
    final SpecificDatumWriter<T> datumWriter;

    Machinery(Class<T> recordType, AvroWireFormat format, List<String> writerSchemaJsons) {
      // The class's own model carries its logical-type conversions (decimal amounts).
      SpecificData model = SpecificData.getForClass(recordType);
      readerSchema = model.getSchema(recordType);
      if (readerSchema.getType() != Schema.Type.RECORD) {
        throw new IllegalArgumentException(recordType.getName() + " is not a generated Avro record class");
      }
      readerFingerprint = SchemaNormalization.parsingFingerprint64(readerSchema);
      SchemaBounds.requireArrayItemsTakeBytes(readerSchema);
      Map<Long, Schema> given = new LinkedHashMap<>();
      for (String json : writerSchemaJsons) {
        Schema writer = new Schema.Parser().parse(json);
        given.putIfAbsent(SchemaNormalization.parsingFingerprint64(writer), writer);
      }
      if (format == AvroWireFormat.NAKED_BINARY && given.size() > 1) {
        throw new IllegalArgumentException("naked " + recordType.getSimpleName() + " records carry no schema"
            + " fingerprint, so they can have only one writer schema; " + given.size() + " were given ("
            + given.keySet().stream().map(AvroRecordCodec::hex).collect(Collectors.joining(", ")) + ")");
      }

      writerSchemasByFingerprint.put(readerFingerprint, readerSchema);
      readersByFingerprint.put(readerFingerprint, new SpecificDatumReader<>(readerSchema, readerSchema, model));
      for (Map.Entry<Long, Schema> entry : given.entrySet()) {
        Schema writer = entry.getValue();
        // Checked even at the reader's fingerprint: parsing canonical form ignores logical types.
        requireReadable(recordType, readerSchema, writer, entry.getKey());
        if (entry.getKey() == readerFingerprint) continue;
        writerSchemasByFingerprint.put(entry.getKey(), writer);
        readersByFingerprint.put(entry.getKey(), new SpecificDatumReader<>(writer, readerSchema, model));
      }

      nakedWriterSchema = given.isEmpty() ? readerSchema : given.values().iterator().next();
      nakedWriterFingerprint = SchemaNormalization.parsingFingerprint64(nakedWriterSchema);
      writerSchemaIsForeign = nakedWriterFingerprint != readerFingerprint;
      nakedReader = readersByFingerprint.get(nakedWriterFingerprint);
      datumWriter = new SpecificDatumWriter<>(readerSchema, model);
    }

    private static void requireReadable(Class<?> recordType, Schema readerSchema, Schema writer, long fingerprint) {
      List<String> problems = readProblems(readerSchema, writer);
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException("records written with writer schema " + writer.getFullName()
            + " (fingerprint " + hex(fingerprint) + ") cannot be read as " + recordType.getName() + ": "
            + String.join("; ", problems));
      }
    }
  }
}
