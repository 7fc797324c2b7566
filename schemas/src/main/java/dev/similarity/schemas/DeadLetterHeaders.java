package dev.similarity.schemas;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The facts of a {@link DeadLetter} as Kafka record headers, named and encoded as Kafka Connect's
 * dead-letter queue does ({@code errors.deadletterqueue.context.headers.enable}): UTF-8 text,
 * numbers in decimal. Tools that understand Connect's DLQ headers then understand ours. Our own
 * {@code __dead-letter.*} headers say whether the dead letter was cut to fit and identify the whole
 * original (its sizes and SHA-256 digests in hex).
 */
public final class DeadLetterHeaders {

  public static final String TOPIC = "__connect.errors.topic";
  public static final String PARTITION = "__connect.errors.partition";
  public static final String OFFSET = "__connect.errors.offset";
  public static final String STAGE = "__connect.errors.stage";
  public static final String EXCEPTION_CLASS_NAME = "__connect.errors.exception.class.name";
  public static final String EXCEPTION_MESSAGE = "__connect.errors.exception.message";
  /** {@code true} or {@code false}: see {@link DeadLetter#getTruncated()}. */
  public static final String TRUNCATED = "__dead-letter.truncated";
  public static final String ORIGINAL_KEY_BYTES = "__dead-letter.original.key.bytes";
  public static final String ORIGINAL_VALUE_BYTES = "__dead-letter.original.value.bytes";
  public static final String ORIGINAL_KEY_SHA256 = "__dead-letter.original.key.sha256";
  public static final String ORIGINAL_VALUE_SHA256 = "__dead-letter.original.value.sha256";

  private DeadLetterHeaders() {}

  /**
   * Header key to value, in the order above. A fact the dead letter lacks (partition, offset,
   * message, the key's size and digest when the source had no key, ...) has no header rather than
   * an empty one. A text header repeats its field's text whole, so a dead letter carries its source
   * topic, stage, error class and message twice.
   */
  public static Map<String, byte[]> of(DeadLetter deadLetter) {
    Map<String, byte[]> headers = new LinkedHashMap<>();
    put(headers, TOPIC, deadLetter.getSourceTopic());
    put(headers, PARTITION, deadLetter.getSourcePartition());
    put(headers, OFFSET, deadLetter.getSourceOffset());
    put(headers, STAGE, deadLetter.getStage());
    put(headers, EXCEPTION_CLASS_NAME, deadLetter.getErrorClass());
    put(headers, EXCEPTION_MESSAGE, deadLetter.getErrorMessage());
    put(headers, TRUNCATED, deadLetter.getTruncated());
    put(headers, ORIGINAL_KEY_BYTES, deadLetter.getOriginalKeyBytes());
    put(headers, ORIGINAL_VALUE_BYTES, deadLetter.getOriginalValueBytes());
    put(headers, ORIGINAL_KEY_SHA256, deadLetter.getOriginalKeySha256());
    put(headers, ORIGINAL_VALUE_SHA256, deadLetter.getOriginalValueSha256());
    return Collections.unmodifiableMap(headers);
  }

  private static void put(Map<String, byte[]> headers, String key, Object value) {
    if (value != null) headers.put(key, String.valueOf(value).getBytes(StandardCharsets.UTF_8));
  }
}
