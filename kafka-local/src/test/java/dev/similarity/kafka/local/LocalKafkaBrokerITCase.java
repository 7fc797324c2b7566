package dev.similarity.kafka.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.local.HoldingJvm;
import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real broker in a child JVM: start, connect, stop, restart, fail, lose its parent. */
class LocalKafkaBrokerITCase {

  @TempDir Path tempDir;

  @Test
  void startsOnAFreeLoopbackPortAndStopsWithoutLeavingAnything() throws Exception {
    LocalKafkaBroker broker = LocalKafkaBroker.builder().build().start();
    Path dataDir = broker.dataDir();
    long pid = broker.pid();
    try {
      assertEquals("127.0.0.1:" + broker.port(), broker.bootstrapServers());
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", broker.port()), 2_000);
      }
      Properties meta = load(dataDir.resolve("data/meta.properties"));
      assertEquals("1", meta.getProperty("node.id"));
      assertEquals(22, meta.getProperty("cluster.id").length());
      Properties server = load(dataDir.resolve("server.properties"));
      assertEquals("900000", server.getProperty("transaction.max.timeout.ms"));
      assertEquals("PLAINTEXT://127.0.0.1:" + broker.port() + ",CONTROLLER://127.0.0.1:" + broker.controllerPort(),
          server.getProperty("listeners"));
      assertTrue(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
    } finally {
      broker.close();
    }
    assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "broker pid " + pid + " still alive");
    assertFalse(Files.exists(dataDir), "temporary data dir " + dataDir + " not deleted");
    broker.close(); // a second close is harmless
  }

  @Test
  void restartInTheSameDataDirKeepsClusterPortAndTopics() throws Exception {
    Path dataDir = tempDir.resolve("kafka");
    String clusterId;
    int port;
    try (LocalKafkaBroker first = LocalKafkaBroker.builder().dataDir(dataDir).transactionMaxTimeoutMs(120_000).build().start()) {
      port = first.port();
      clusterId = load(dataDir.resolve("data/meta.properties")).getProperty("cluster.id");
      first.kafkaTopics("--create", "--topic", "kept-across-restarts", "--partitions", "3");

      IllegalStateException second = assertThrows(IllegalStateException.class,
          () -> LocalKafkaBroker.builder().dataDir(dataDir).build().start());
      assertTrue(second.getMessage().contains("is already running"), second.getMessage());
      assertTrue(first.isRunning(), "the refused second start must leave the first broker alone");
      assertEquals(first.pid(), LocalKafkaBroker.attach(dataDir).orElseThrow().pid());
    }
    assertTrue(LocalKafkaBroker.attach(dataDir).isEmpty());

    try (LocalKafkaBroker again = LocalKafkaBroker.builder().dataDir(dataDir).build().start()) {
      assertEquals(clusterId, load(dataDir.resolve("data/meta.properties")).getProperty("cluster.id"), "storage re-formatted");
      assertEquals(port, again.port(), "the previous port was free and should have been reused");
      String description = again.kafkaTopics("--describe", "--topic", "kept-across-restarts");
      assertTrue(description.contains("PartitionCount: 3"), description);
    }
  }

  @Test
  void failedStartReportsTheBrokerLogAndLeavesNothingRunning() throws IOException {
    Path dataDir = tempDir.resolve("kafka");
    // The storage tool accepts this; the broker fails when it loads the authorizer.
    LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(dataDir)
        .brokerProperty("authorizer.class.name", "dev.similarity.NoSuchAuthorizer").build();
    IllegalStateException e = assertThrows(IllegalStateException.class, broker::start);
    assertTrue(e.getMessage().contains("dev.similarity.NoSuchAuthorizer"), e.getMessage());
    assertTrue(e.getMessage().contains("broker.log"), e.getMessage());
    assertTrue(LocalKafkaBroker.attach(dataDir).isEmpty());
    assertFalse(Files.exists(dataDir.resolve("kafka-local.properties")));
  }

  @Test
  void brokerStopsWhenTheJvmThatStartedItIsKilled() throws Exception {
    Path dataDir = tempDir.resolve("kafka");
    HoldingJvm parent = HoldingJvm.start(BrokerHoldingMain.class, dataDir.toString());
    try {
      long brokerPid = Long.parseLong(parent.ready().get(0));
      assertTrue(LocalKafkaBroker.attach(dataDir).isPresent());

      parent.kill(); // SIGKILL: no shutdown hook runs in the parent

      Optional<ProcessHandle> broker = ProcessHandle.of(brokerPid);
      if (broker.isPresent()) {
        broker.get().onExit().get(60, TimeUnit.SECONDS);
      }
      assertTrue(LocalKafkaBroker.attach(dataDir).isEmpty());
    } finally {
      parent.kill();
      LocalKafkaBroker.attach(dataDir).ifPresent(LocalKafkaBroker::close);
    }
  }

  /** Run in a separate JVM by the test above: starts a broker and waits to be killed. */
  public static final class BrokerHoldingMain {
    public static void main(String[] args) throws Exception {
      LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(Path.of(args[0]))
          .startupTimeout(Duration.ofSeconds(120)).build().start();
      System.out.println("READY " + broker.pid());
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }

  private static Properties load(Path file) throws IOException {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(in);
    }
    return properties;
  }
}
