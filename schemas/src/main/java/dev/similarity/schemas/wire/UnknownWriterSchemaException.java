package dev.similarity.schemas.wire;

/**
 * A single-object record whose writer schema fingerprint the codec was not given: the bytes may be
 * perfectly good, but nothing says how to read them. Telling the codec the producer's schema makes
 * the same bytes readable.
 */
public final class UnknownWriterSchemaException extends InvalidRecordException {

  private static final long serialVersionUID = 1L;

  private final long fingerprint;

  public UnknownWriterSchemaException(String message, long fingerprint) {
    super(message);
    this.fingerprint = fingerprint;
  }

  /** The CRC-64-AVRO parsing fingerprint from the record's header. */
  public long fingerprint() {
    return fingerprint;
  }

  /** {@link #fingerprint()} as messages write it: {@code 0x} and 16 lower-case hex digits. */
  public String fingerprintHex() {
    return AvroRecordCodec.hex(fingerprint);
  }
}
