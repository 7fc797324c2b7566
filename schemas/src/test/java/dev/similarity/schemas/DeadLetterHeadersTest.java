package dev.similarity.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeadLetterHeadersTest {

  private static final String SHA256_OF_123 = "a665a45920422f9d417e4867efdc4fb8a04a1f3fff1fa07e998e86f7f7a27ae3";

  @Test
  void rendersConnectStyleHeadersAsUtf8Text() {
    Map<String, byte[]> headers = DeadLetterHeaders.of(SampleRecords.deadLetter().build());
    assertEquals(List.of("__connect.errors.topic", "__connect.errors.partition", "__connect.errors.offset",
        "__connect.errors.stage", "__connect.errors.exception.class.name", "__connect.errors.exception.message",
        "__dead-letter.truncated"),
        List.copyOf(headers.keySet()));
    assertEquals("catalogue-events", text(headers, DeadLetterHeaders.TOPIC));
    assertEquals("3", text(headers, DeadLetterHeaders.PARTITION));
    assertEquals("12345", text(headers, DeadLetterHeaders.OFFSET));
    assertEquals("fetch", text(headers, DeadLetterHeaders.STAGE));
    assertEquals("dev.similarity.embedding.ImageTooLargeException", text(headers, DeadLetterHeaders.EXCEPTION_CLASS_NAME));
    assertEquals("image for product p-1 is 41 MB, over embedding.image.max-bytes (10 MB)",
        text(headers, DeadLetterHeaders.EXCEPTION_MESSAGE));
    assertEquals("false", text(headers, DeadLetterHeaders.TRUNCATED));
  }

  @Test
  void rendersWhetherItWasCutAndTheWholeOriginalsSizesAndDigests() {
    DeadLetter deadLetter = SampleRecords.deadLetter().setTruncated(true)
        .setOriginalKeyBytes(3L).setOriginalValueBytes(3_000_000L)
        .setOriginalKeySha256(SHA256_OF_123).setOriginalValueSha256(SHA256_OF_123).build();
    Map<String, byte[]> headers = DeadLetterHeaders.of(deadLetter);
    assertEquals("true", text(headers, DeadLetterHeaders.TRUNCATED));
    assertEquals("3", text(headers, DeadLetterHeaders.ORIGINAL_KEY_BYTES));
    assertEquals("3000000", text(headers, DeadLetterHeaders.ORIGINAL_VALUE_BYTES));
    assertEquals(SHA256_OF_123, text(headers, DeadLetterHeaders.ORIGINAL_KEY_SHA256));
    assertEquals(SHA256_OF_123, text(headers, DeadLetterHeaders.ORIGINAL_VALUE_SHA256));
  }

  @Test
  void leavesOutFactsTheDeadLetterLacks() {
    DeadLetter deadLetter = SampleRecords.deadLetter().setSourcePartition(null).setSourceOffset(null).setErrorMessage(null).build();
    Map<String, byte[]> headers = DeadLetterHeaders.of(deadLetter);
    assertFalse(headers.containsKey(DeadLetterHeaders.PARTITION));
    assertFalse(headers.containsKey(DeadLetterHeaders.OFFSET));
    assertFalse(headers.containsKey(DeadLetterHeaders.EXCEPTION_MESSAGE));
    assertFalse(headers.containsKey(DeadLetterHeaders.ORIGINAL_KEY_BYTES));
    assertFalse(headers.containsKey(DeadLetterHeaders.ORIGINAL_VALUE_SHA256));
    assertEquals(4, headers.size());
  }

  private static String text(Map<String, byte[]> headers, String key) {
    return new String(headers.get(key), StandardCharsets.UTF_8);
  }
}
