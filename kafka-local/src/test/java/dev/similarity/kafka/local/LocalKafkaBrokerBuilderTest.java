package dev.similarity.kafka.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings are checked in build(), before any process starts. */
class LocalKafkaBrokerBuilderTest {

  @TempDir Path tempDir;

  @Test
  void refusesBrokerPropertiesItDerivesNamingTheSettingToUse() {
    assertRefused(LocalKafkaBroker.builder().brokerProperty("listeners", "PLAINTEXT://0.0.0.0:9092"),
        "brokerProperty listeners is set by LocalKafkaBroker itself; use port() and controllerPort()");
    assertRefused(LocalKafkaBroker.builder().brokerProperty("transaction.max.timeout.ms", "60000"),
        "use transactionMaxTimeoutMs()");
    assertRefused(LocalKafkaBroker.builder().brokerProperty("log.dirs", "/tmp/x"), "use dataDir()");
  }

  @Test
  void refusesHeapThatIsNotAJvmSize() {
    assertRefused(LocalKafkaBroker.builder().heap("-Xmx512m"), "heap is '-Xmx512m'; give a JVM size such as 512m or 1g");
  }

  @Test
  void refusesSamePortForClientAndController() {
    assertRefused(LocalKafkaBroker.builder().port(19092).controllerPort(19092), "port and controllerPort are both 19092");
  }

  @Test
  void refusesPortOutOfRange() {
    assertRefused(LocalKafkaBroker.builder().port(70_000), "port is 70000; use 1-65535, or 0 for a free port");
  }

  @Test
  void refusesNonPositiveTransactionTimeout() {
    assertRefused(LocalKafkaBroker.builder().transactionMaxTimeoutMs(0), "transactionMaxTimeoutMs is 0");
  }

  @Test
  void refusesDetachedBrokerWithoutDataDir() {
    assertRefused(LocalKafkaBroker.builder().detached(true), "detached(true) needs dataDir(...)");
  }

  @Test
  void refusesJavaHomeWithoutJava() {
    assertRefused(LocalKafkaBroker.builder().javaHome(tempDir), "javaHome " + tempDir + " has no executable bin/java");
  }

  @Test
  void refusesBrokerLibDirWithoutKafkaJarsSayingHowToBuildThem() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> LocalKafkaBroker.builder().brokerLibDir(tempDir).build());
    assertTrue(e.getMessage().contains("holds no kafka_2.13-*.jar"), e.getMessage());
    assertTrue(e.getMessage().contains("mvn -pl kafka-local install -DskipTests"), e.getMessage());
  }

  @Test
  void findsTheBrokerLibOfThisBuildByDefault() {
    // Builds without starting anything: the default lookup must find target/broker-lib of this module.
    LocalKafkaBroker broker = LocalKafkaBroker.builder().build();
    assertEquals("LocalKafkaBroker[not started]", broker.toString());
    assertThrows(IllegalStateException.class, broker::bootstrapServers);
  }

  @Test
  void attachFindsNothingWhereNoBrokerWasStarted() {
    assertTrue(LocalKafkaBroker.attach(tempDir).isEmpty());
  }

  @Test
  void attachIgnoresARecordedPidThatIsNotThisDirectorysBroker() throws Exception {
    // A live pid that is not a broker (this test JVM), as after a reboot recycled the broker's pid.
    Files.writeString(tempDir.resolve("kafka-local.properties"), "pid=" + ProcessHandle.current().pid()
        + "\nport=1\ncontroller.port=2\ntransaction.max.timeout.ms=900000\n");
    assertTrue(LocalKafkaBroker.attach(tempDir).isEmpty());
  }

  private static void assertRefused(LocalKafkaBroker.Builder builder, String expectedInMessage) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, builder::build);
    assertTrue(e.getMessage().contains(expectedInMessage), e.getMessage());
  }
}
