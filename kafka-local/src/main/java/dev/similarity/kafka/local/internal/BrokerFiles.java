package dev.similarity.kafka.local.internal;

import dev.similarity.local.LocalFiles;
import dev.similarity.local.LogFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
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
    String listeners = LocalFiles.readProperties(serverProperties()).map(p -> p.getProperty("listeners", "")).orElse("");
    Matcher client = Pattern.compile("PLAINTEXT://[^,:]+:(\\d+)").matcher(listeners);
    Matcher controller = Pattern.compile("CONTROLLER://[^,:]+:(\\d+)").matcher(listeners);
    if (!client.find() || !controller.find()) return Optional.empty();
    return Optional.of(new Ports(Integer.parseInt(client.group(1)), Integer.parseInt(controller.group(1))));
  }

  public void writeServerProperties(Map<String, String> properties) throws IOException {
    LocalFiles.writeProperties(serverProperties(), "Written by LocalKafkaBroker at every start; edits are lost.", properties);
  }

  public void writeLogConfigs() throws IOException {
    // WARN and up, plus the one INFO line start() waits for: "Kafka Server started".
    LocalFiles.writeAtomically(brokerLogConfig(), """
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
    LocalFiles.writeAtomically(toolsLogConfig(), LogFiles.TOOLS_LOG4J2_PROPERTIES);
  }
}
