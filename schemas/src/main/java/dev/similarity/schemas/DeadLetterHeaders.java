package dev.similarity.schemas;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The facts of a {@link DeadLetter} as Kafka record headers, named and encoded as Kafka Connect's
 * dead-letter queue does ({@code errors.deadletterqueue.context.headers.enable}): UTF-8 text,
 * numbers in decimal. Tools that understand Connect's DLQ headers then understand ours.
 */
public final class DeadLetterHeaders {

  public static final String TOPIC = "__connect.errors.topic";
  public static final String PARTITION = "__connect.errors.partition";
  public static final String OFFSET = "__connect.errors.offset";
  public static final String STAGE = "__connect.errors.stage";
  public static final String EXCEPTION_CLASS_NAME = "__connect.errors.exception.class.name";
  public static final String EXCEPTION_MESSAGE = "__connect.errors.exception.message";

  private DeadLetterHeaders() {}

  /**
   * Header key to value, in the order above. A fact the dead letter lacks (partition, offset,
   * message) has no header rather than an empty one.
   */
  public static Map<String, byte[]> of(DeadLetter deadLetter) {
    Map<String, byte[]> headers = new LinkedHashMap<>();
    put(headers, TOPIC, deadLetter.getSourceTopic());
    put(headers, PARTITION, deadLetter.getSourcePartition());
    put(headers, OFFSET, deadLetter.getSourceOffset());
    put(headers, STAGE, deadLetter.getStage());
    put(headers, EXCEPTION_CLASS_NAME, deadLetter.getErrorClass());
    put(headers, EXCEPTION_MESSAGE, deadLetter.getErrorMessage());
    return Collections.unmodifiableMap(headers);
  }

  private static void put(Map<String, byte[]> headers, String key, Object value) {
    if (value != null) headers.put(key, String.valueOf(value).getBytes(StandardCharsets.UTF_8));
  }
}
