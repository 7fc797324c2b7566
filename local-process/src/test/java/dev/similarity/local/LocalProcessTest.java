package dev.similarity.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ports, state files, jar folders and stopping, without a server. */
class LocalProcessTest {

  @TempDir Path tempDir;

  @Test
  void aRequestedPortInUseIsRefusedNamingTheSettingAndHowToChooseAnother() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName(LoopbackPorts.HOST))) {
      assertThatThrownBy(() -> LoopbackPorts.choose("restPort", taken.getLocalPort(), Optional.empty(), Set.of(), "FLINK_REST_PORT"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("restPort " + taken.getLocalPort() + " on 127.0.0.1 is already in use; stop whatever listens there,"
              + " choose another port (FLINK_REST_PORT), or use 0 for a free one");
      // The previous start's port is reused only while it is free.
      assertThat(LoopbackPorts.choose("port", 0, Optional.of(taken.getLocalPort()), Set.of(), "-")).isNotEqualTo(taken.getLocalPort());
    }
  }

  @Test
  void aFreePreviousPortIsKeptUnlessAnotherServerOfThisStartHasIt() {
    int previous = LoopbackPorts.pickFree();
    assertThat(LoopbackPorts.choose("port", 0, Optional.of(previous), Set.of(), "-")).isEqualTo(previous);
    assertThat(LoopbackPorts.choose("controllerPort", 0, Optional.of(previous), Set.of(previous), "-")).isNotEqualTo(previous);
  }

  @Test
  void propertiesAreWrittenWholeInOrderAndADamagedFileReadsAsNone() throws IOException {
    Path file = tempDir.resolve("sub/state.properties");
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("pid", "42");
    entries.put("dir", "C:\\data");
    LocalFiles.writeProperties(file, "A server; removed when it stops.", entries);
    assertThat(Files.readString(file)).isEqualTo("# A server; removed when it stops.\npid=42\ndir=C:\\\\data\n");
    assertThat(LocalFiles.readProperties(file, p -> Long.parseLong(p.getProperty("pid")))).contains(42L);
    assertThat(LocalFiles.readProperties(file).orElseThrow().getProperty("dir")).isEqualTo("C:\\data");
    assertThat(tempDir.resolve("sub/state.properties.tmp")).doesNotExist();

    Files.writeString(file, "pid=forty-two\n");
    assertThat(LocalFiles.readProperties(file, p -> Long.parseLong(p.getProperty("pid")))).isEmpty();
    assertThat(LocalFiles.readProperties(tempDir.resolve("absent"), p -> p)).isEmpty();
  }

  @Test
  void aJarFolderWithoutARequiredJarIsRefusedSayingHowToBuildIt() throws IOException {
    JarFolder folder = new JarFolder("Kafka broker", "kafka-local", "broker-lib", "local.process.test.lib",
        "Builder.brokerLibDir", List.of("kafka_2.13-", "kafka-tools-"), "kafka_2.13 and kafka-tools jars", LocalProcessTest.class);
    Files.createFile(tempDir.resolve("kafka_2.13-4.1.0.jar"));
    assertThatThrownBy(() -> folder.require(tempDir, "brokerLibDir"))
        .hasMessage("Kafka broker lib directory " + tempDir + " (from brokerLibDir) holds no kafka-tools-*.jar;"
            + " build it with 'mvn -pl kafka-local install -DskipTests' in the project root");
    Files.createFile(tempDir.resolve("kafka-tools-4.1.0.jar"));
    System.setProperty("local.process.test.lib", tempDir.toString());
    try {
      assertThat(folder.locate()).isEqualTo(tempDir.toAbsolutePath().normalize());
    } finally {
      System.clearProperty("local.process.test.lib");
    }
  }

  @Test
  void aProcessThatIgnoresSigtermIsKilledAfterTheGracePeriod() throws Exception {
    Process process = new ProcessBuilder("sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done").start();
    process.getInputStream().read(); // the trap is set
    ChildProcess child = ChildProcess.started("stubborn", process);
    long start = System.nanoTime();
    child.stop(Duration.ofMillis(500), "test");
    assertThat(child.isAlive()).isFalse();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(500));
    assertThat(child.exitCodeText()).isEqualTo(" with code 137");
  }

  @Test
  void aProcessThatExitsWhileStartingIsReportedWithItsLog() throws Exception {
    Path log = tempDir.resolve("server.log");
    ChildProcess child = ChildJvm.start("server", List.of("sh", "-c", "echo 'cannot bind'; exit 3"), tempDir, log, false, Map.of());
    assertThatThrownBy(() -> child.awaitReady("the server", "accept connections", () -> false, Duration.ofSeconds(30), log))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the server exited with code 3 while starting; last lines of " + log + ":\ncannot bind");
  }
}
