package dev.similarity.schemas.wire;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How one Avro record is laid out in one Kafka record value. See docs/wire-format.md.
 */
public enum AvroWireFormat {

  /**
   * The record's Avro binary encoding and nothing else. The reader must know the writer's schema
   * from configuration. Divolte Collector's Kafka sink writes this by default ("naked" mode).
   */
  NAKED_BINARY("naked-binary"),

  /**
   * Avro's single-object encoding: marker {@code C3 01}, the writer schema's 8-byte CRC-64-AVRO
   * fingerprint (little-endian), then the binary encoding. Readers find the writer schema by its
   * fingerprint, so schema changes are detected instead of misread. Same bytes as the generated
   * classes' {@code toByteBuffer()}.
   */
  SINGLE_OBJECT("single-object");

  /**
   * Catalogue events arrive naked: the systems that emit them are Divolte-style collectors whose
   * Kafka sink writes naked Avro unless told otherwise.
   */
  public static final AvroWireFormat CATALOGUE_EVENTS_DEFAULT = NAKED_BINARY;

  /**
   * What this project writes itself (neighbour lists, dead letters): self-describing, so a consumer
   * on an old schema fails loudly rather than misreading a newer record.
   */
  public static final AvroWireFormat OUTPUT_DEFAULT = SINGLE_OBJECT;

  private final String configValue;

  AvroWireFormat(String configValue) {
    this.configValue = configValue;
  }

  /** The spelling used in configuration: {@code naked-binary} or {@code single-object}. */
  public String configValue() {
    return configValue;
  }

  /**
   * Parses a configuration value: {@code naked-binary} or {@code single-object}, in any case, with
   * {@code _} accepted for {@code -}.
   *
   * @param setting the name of the setting the value came from, for the error message
   */
  public static AvroWireFormat fromConfigValue(String setting, String value) {
    if (value != null) {
      String normalised = value.trim().toLowerCase(Locale.ROOT).replace('_', '-');
      for (AvroWireFormat format : values()) {
        if (format.configValue.equals(normalised)) return format;
      }
    }
    throw new IllegalArgumentException(setting + " is '" + value + "'; use one of "
        + Arrays.stream(values()).map(AvroWireFormat::configValue).collect(Collectors.joining(", ")));
  }
}
