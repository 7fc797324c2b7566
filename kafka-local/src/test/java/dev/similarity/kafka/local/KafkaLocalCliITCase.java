package dev.similarity.kafka.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.local.CliRun;
import dev.similarity.local.LoopbackPorts;
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
      CliRun start = run("start", "--data-dir", dataDir.toString(), "--port", port);
      assertEquals(KafkaLocalCli.OK, start.exitCode(), start.toString());
      assertTrue(start.out().startsWith("Kafka started on 127.0.0.1:" + port), start.toString());
      long pid = LocalKafkaBroker.attach(dataDir).orElseThrow().pid();

      CliRun again = run("start", "--data-dir", dataDir.toString(), "--port", port);
      assertEquals(KafkaLocalCli.OK, again.exitCode(), again.toString());
      assertTrue(again.out().startsWith("Kafka is already running on 127.0.0.1:" + port + " (pid " + pid + ")"), again.toString());

      CliRun status = run("status", "--data-dir", dataDir.toString(), "--port", port);
      assertEquals(KafkaLocalCli.OK, status.exitCode(), status.toString());
      assertTrue(status.out().startsWith("running\n  bootstrap: 127.0.0.1:" + port), status.toString());
      assertTrue(status.out().contains(dataDir.resolve("broker.log").toString()), status.toString());

      CliRun create = run("topics", "--data-dir", dataDir.toString(), "--port", port,
          "--create", "--topic", "catalogue-events", "--partitions", "2");
      assertEquals(KafkaLocalCli.OK, create.exitCode(), create.toString());
      CliRun list = run("topics", "--data-dir", dataDir.toString(), "--port", port, "--list");
      assertTrue(list.out().lines().anyMatch("catalogue-events"::equals), list.toString());

      CliRun stop = run("stop", "--data-dir", dataDir.toString());
      assertEquals(KafkaLocalCli.OK, stop.exitCode(), stop.toString());
      assertTrue(stop.out().startsWith("Kafka on 127.0.0.1:" + port + " (pid " + pid + ") stopped"), stop.toString());
      assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));

      CliRun after = run("status", "--data-dir", dataDir.toString(), "--port", port);
      assertEquals(KafkaLocalCli.NOT_RUNNING, after.exitCode(), after.toString());
    } finally {
      LocalKafkaBroker.attach(dataDir).ifPresent(LocalKafkaBroker::close); // a detached broker outlives a failed test
    }
  }

  private static CliRun run(String... args) {
    return CliRun.of((out, err) -> new KafkaLocalCli(out, err)::run, args);
  }
}
