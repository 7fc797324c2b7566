package dev.similarity.kafka.local.internal;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * What a started broker records in its data directory so that another process (the CLI's
 * {@code stop} and {@code status}) can find it again.
 */
public record BrokerState(long pid, int port, int controllerPort, long transactionMaxTimeoutMs) {

  public void write(BrokerFiles files) throws IOException {
    String content = "# A broker started by LocalKafkaBroker; removed when it stops.\n"
        + "pid=" + pid + "\n"
        + "port=" + port + "\n"
        + "controller.port=" + controllerPort + "\n"
        + "transaction.max.timeout.ms=" + transactionMaxTimeoutMs + "\n";
    BrokerFiles.writeAtomically(files.stateFile(), content);
    BrokerFiles.writeAtomically(files.pidFile(), pid + "\n");
  }

  /** The recorded state, or empty when there is none; a damaged file reads as none. */
  public static Optional<BrokerState> read(BrokerFiles files) {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(files.stateFile(), StandardCharsets.UTF_8)) {
      properties.load(in);
      return Optional.of(new BrokerState(
          Long.parseLong(properties.getProperty("pid")),
          Integer.parseInt(properties.getProperty("port")),
          Integer.parseInt(properties.getProperty("controller.port")),
          Long.parseLong(properties.getProperty("transaction.max.timeout.ms"))));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  public static void delete(BrokerFiles files) throws IOException {
    Files.deleteIfExists(files.stateFile());
    Files.deleteIfExists(files.pidFile());
  }
}
