package dev.similarity.kafka.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's answers where no broker runs; starting one is in KafkaLocalCliITCase. */
class KafkaLocalCliTest {

  @TempDir Path dataDir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private final KafkaLocalCli cli = new KafkaLocalCli(
      new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));

  @Test
  void statusSaysNotRunningWithAddressAndLogPath() {
    assertEquals(KafkaLocalCli.NOT_RUNNING, cli.run(new String[] {"status", "--data-dir", dataDir.toString(), "--port", "19092"}));
    String printed = out.toString(StandardCharsets.UTF_8);
    assertTrue(printed.startsWith("not running"), printed);
    assertTrue(printed.contains("127.0.0.1:19092"), printed);
    assertTrue(printed.contains(dataDir.resolve("broker.log").toString()), printed);
  }

  @Test
  void stopWithNothingRunningSucceedsSayingSo() {
    assertEquals(KafkaLocalCli.OK, cli.run(new String[] {"stop", "--data-dir", dataDir.toString()}));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("Kafka is not running"));
  }

  @Test
  void topicsWithNothingRunningFailsSayingHowToStart() {
    assertEquals(KafkaLocalCli.FAILED, cli.run(new String[] {"topics", "--data-dir", dataDir.toString(), "--list"}));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("start it with scripts/kafka-local start"));
  }

  @Test
  void refusesMissingDataDirUnknownCommandAndBadPort() {
    assertEquals(KafkaLocalCli.USAGE, cli.run(new String[] {"status"}));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--data-dir is missing"));
    assertEquals(KafkaLocalCli.USAGE, cli.run(new String[] {"restart", "--data-dir", dataDir.toString()}));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown command 'restart'"));
    assertEquals(KafkaLocalCli.USAGE, cli.run(new String[] {"start", "--data-dir", dataDir.toString(), "--port", "ninety"}));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("--port 'ninety' is not a number"));
  }
}
