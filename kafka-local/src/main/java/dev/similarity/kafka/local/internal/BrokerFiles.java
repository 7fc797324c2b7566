package dev.similarity.kafka.local.internal;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Layout of a broker's data directory. Everything the broker owns lives under it, so deleting it
 * forgets the broker completely.
 *
 * <pre>
 * dataDir/
 *   kafka-local.properties   pid, ports and settings of the running broker (absent when stopped)
 *   broker.pid               the same pid, for people and shell scripts
 *   broker.log               the broker JVM's output, appended across restarts
 *   server.properties        rewritten at every start; a restart reuses its ports if free
 *   log4j2.properties        broker logging, rewritten at every start
 *   tools-log4j2.properties  logging of kafka-topics and the storage tool
 *   data/                    log.dirs: meta.properties, topic partitions, the KRaft metadata log
 * </pre>
 */
public record BrokerFiles(Path dataDir) {

  public Path stateFile() { return dataDir.resolve("kafka-local.properties"); }
  public Path pidFile() { return dataDir.resolve("broker.pid"); }
  public Path logFile() { return dataDir.resolve("broker.log"); }
  public Path serverProperties() { return dataDir.resolve("server.properties"); }
  public Path brokerLogConfig() { return dataDir.resolve("log4j2.properties"); }
  public Path toolsLogConfig() { return dataDir.resolve("tools-log4j2.properties"); }
  public Path logDirs() { return dataDir.resolve("data"); }
  /** Written by the storage tool; its presence means the storage is formatted. */
  public Path metaProperties() { return logDirs().resolve("meta.properties"); }

  /** The client and controller ports of a start. */
  public record Ports(int client, int controller) {}

  /** The ports the last start used, read back from its server.properties; empty before the first start. */
  public Optional<Ports> previousPorts() {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(serverProperties(), StandardCharsets.UTF_8)) {
      properties.load(in);
    } catch (IOException e) {
      return Optional.empty();
    }
    Matcher client = Pattern.compile("PLAINTEXT://[^,:]+:(\\d+)").matcher(properties.getProperty("listeners", ""));
    Matcher controller = Pattern.compile("CONTROLLER://[^,:]+:(\\d+)").matcher(properties.getProperty("listeners", ""));
    if (!client.find() || !controller.find()) return Optional.empty();
    return Optional.of(new Ports(Integer.parseInt(client.group(1)), Integer.parseInt(controller.group(1))));
  }

  public void writeServerProperties(Map<String, String> properties) throws IOException {
    StringBuilder out = new StringBuilder("# Written by LocalKafkaBroker at every start; edits are lost.\n");
    properties.forEach((key, value) -> out.append(key).append('=').append(value.replace("\\", "\\\\")).append('\n'));
    writeAtomically(serverProperties(), out.toString());
  }

  public void writeLogConfigs() throws IOException {
    // WARN and up, plus the one INFO line start() waits for: "Kafka Server started".
    writeAtomically(brokerLogConfig(), """
        status = warn
        appender.out.type = Console
        appender.out.name = STDOUT
        appender.out.layout.type = PatternLayout
        appender.out.layout.pattern = [%d] %p %m (%c)%n
        rootLogger.level = WARN
        rootLogger.appenderRef.out.ref = STDOUT
        logger.started.name = kafka.server.KafkaRaftServer
        logger.started.level = INFO
        """);
    writeAtomically(toolsLogConfig(), """
        status = warn
        appender.err.type = Console
        appender.err.name = STDERR
        appender.err.target = SYSTEM_ERR
        appender.err.layout.type = PatternLayout
        appender.err.layout.pattern = [%d] %p %m (%c)%n
        rootLogger.level = WARN
        rootLogger.appenderRef.err.ref = STDERR
        """);
  }

  static void writeAtomically(Path file, String content) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temp, content, StandardCharsets.UTF_8);
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
