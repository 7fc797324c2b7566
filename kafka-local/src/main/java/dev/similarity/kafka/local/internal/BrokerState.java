package dev.similarity.kafka.local.internal;

import dev.similarity.local.LocalFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What a started broker records in its data directory so that another process (the CLI's
 * {@code stop} and {@code status}) can find it again.
 */
public record BrokerState(long pid, int port, int controllerPort, long transactionMaxTimeoutMs) {

  public void write(BrokerFiles files) throws IOException {
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("pid", Long.toString(pid));
    entries.put("port", Integer.toString(port));
    entries.put("controller.port", Integer.toString(controllerPort));
    entries.put("transaction.max.timeout.ms", Long.toString(transactionMaxTimeoutMs));
    LocalFiles.writeProperties(files.stateFile(), "A broker started by LocalKafkaBroker; removed when it stops.", entries);
    LocalFiles.writePid(files.pidFile(), pid);
  }

  /** The recorded state, or empty when there is none; a damaged file reads as none. */
  public static Optional<BrokerState> read(BrokerFiles files) {
    return LocalFiles.readProperties(files.stateFile(), p -> new BrokerState(
        Long.parseLong(p.getProperty("pid")),
        Integer.parseInt(p.getProperty("port")),
        Integer.parseInt(p.getProperty("controller.port")),
        Long.parseLong(p.getProperty("transaction.max.timeout.ms"))));
  }

  public static void delete(BrokerFiles files) throws IOException {
    Files.deleteIfExists(files.stateFile());
    Files.deleteIfExists(files.pidFile());
  }
}
