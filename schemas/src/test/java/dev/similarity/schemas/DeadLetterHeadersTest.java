package dev.similarity.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeadLetterHeadersTest {

  @Test
  void rendersConnectStyleHeadersAsUtf8Text() {
    Map<String, byte[]> headers = DeadLetterHeaders.of(SampleRecords.deadLetter().build());
    assertEquals(List.of("__connect.errors.topic", "__connect.errors.partition", "__connect.errors.offset",
        "__connect.errors.stage", "__connect.errors.exception.class.name", "__connect.errors.exception.message"),
        List.copyOf(headers.keySet()));
    assertEquals("catalogue-events", text(headers, DeadLetterHeaders.TOPIC));
    assertEquals("3", text(headers, DeadLetterHeaders.PARTITION));
    assertEquals("12345", text(headers, DeadLetterHeaders.OFFSET));
    assertEquals("fetch", text(headers, DeadLetterHeaders.STAGE));
    assertEquals("dev.similarity.embedding.ImageTooLargeException", text(headers, DeadLetterHeaders.EXCEPTION_CLASS_NAME));
    assertEquals("image for product p-1 is 41 MB, over embedding.image.max-bytes (10 MB)",
        text(headers, DeadLetterHeaders.EXCEPTION_MESSAGE));
  }

  @Test
  void leavesOutFactsTheDeadLetterLacks() {
    DeadLetter deadLetter = SampleRecords.deadLetter().setSourcePartition(null).setSourceOffset(null).setErrorMessage(null).build();
    Map<String, byte[]> headers = DeadLetterHeaders.of(deadLetter);
    assertFalse(headers.containsKey(DeadLetterHeaders.PARTITION));
    assertFalse(headers.containsKey(DeadLetterHeaders.OFFSET));
    assertFalse(headers.containsKey(DeadLetterHeaders.EXCEPTION_MESSAGE));
    assertEquals(3, headers.size());
  }

  private static String text(Map<String, byte[]> headers, String key) {
    return new String(headers.get(key), StandardCharsets.UTF_8);
  }
}
