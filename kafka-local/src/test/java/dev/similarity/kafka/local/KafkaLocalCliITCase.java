package dev.similarity.kafka.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.local.LoopbackPorts;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** start / status / topics / stop as scripts/kafka-local runs them, against a real detached broker. */
class KafkaLocalCliITCase {

  @TempDir Path dataDir;

  @Test
  void startsOnceReportsStatusRunsKafkaTopicsAndStops() {
    String port = Integer.toString(LoopbackPorts.pickFree());
    try {
      Run start = run("start", "--data-dir", dataDir.toString(), "--port", port);
      assertEquals(KafkaLocalCli.OK, start.exitCode, start.toString());
      assertTrue(start.out.startsWith("Kafka started on 127.0.0.1:" + port), start.toString());
      long pid = LocalKafkaBroker.attach(dataDir).orElseThrow().pid();

      Run again = run("start", "--data-dir", dataDir.toString(), "--port", port);
      assertEquals(KafkaLocalCli.OK, again.exitCode, again.toString());
      assertTrue(again.out.startsWith("Kafka is already running on 127.0.0.1:" + port + " (pid " + pid + ")"), again.toString());

      Run status = run("status", "--data-dir", dataDir.toString(), "--port", port);
      assertEquals(KafkaLocalCli.OK, status.exitCode, status.toString());
      assertTrue(status.out.startsWith("running\n  bootstrap: 127.0.0.1:" + port), status.toString());
      assertTrue(status.out.contains(dataDir.resolve("broker.log").toString()), status.toString());

      Run create = run("topics", "--data-dir", dataDir.toString(), "--port", port,
          "--create", "--topic", "catalogue-events", "--partitions", "2");
      assertEquals(KafkaLocalCli.OK, create.exitCode, create.toString());
      Run list = run("topics", "--data-dir", dataDir.toString(), "--port", port, "--list");
      assertTrue(list.out.lines().anyMatch("catalogue-events"::equals), list.toString());

      Run stop = run("stop", "--data-dir", dataDir.toString());
      assertEquals(KafkaLocalCli.OK, stop.exitCode, stop.toString());
      assertTrue(stop.out.startsWith("Kafka on 127.0.0.1:" + port + " (pid " + pid + ") stopped"), stop.toString());
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));

      Run after = run("status", "--data-dir", dataDir.toString(), "--port", port);
      assertEquals(KafkaLocalCli.NOT_RUNNING, after.exitCode, after.toString());
    } finally {
      LocalKafkaBroker.attach(dataDir).ifPresent(LocalKafkaBroker::close); // a detached broker outlives a failed test
    }
  }

  private record Run(int exitCode, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exitCode = new KafkaLocalCli(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8)).run(args);
    return new Run(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
