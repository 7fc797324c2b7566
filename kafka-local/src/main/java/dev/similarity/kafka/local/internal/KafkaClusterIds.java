package dev.similarity.kafka.local.internal;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Base64;

/** Cluster ids in Kafka's {@code Uuid} text form: 16 random bytes, URL-safe base64 without padding. */
public final class KafkaClusterIds {

  private static final SecureRandom RANDOM = new SecureRandom();

  private KafkaClusterIds() {}

  public static String random() {
    while (true) {
      long most = RANDOM.nextLong();
      long least = RANDOM.nextLong();
      // Kafka reserves the all-zero id and the metadata topic's id (0, 1) and refuses ids that
      // would read as command-line options.
      if ((most == 0 && least == 0) || (most == 0 && least == 1)) continue;
      String id = Base64.getUrlEncoder().withoutPadding()
          .encodeToString(ByteBuffer.allocate(16).putLong(most).putLong(least).array());
      if (!id.startsWith("-")) return id;
    }
  }
}
