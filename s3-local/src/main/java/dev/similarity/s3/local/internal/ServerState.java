package dev.similarity.s3.local.internal;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Optional;
import java.util.Properties;

/**
 * What a started server records in its data directory so that another process (the CLI's {@code
 * stop} and {@code status}) can find it again. The credentials stay in s3proxy.properties.
 */
public record ServerState(long pid, int port, String bucket) {

  public void write(ServerFiles files) throws IOException {
    String content = "# A server started by LocalS3Server; removed when it stops.\n"
        + "pid=" + pid + "\n"
        + "port=" + port + "\n"
        + "bucket=" + bucket + "\n";
    ServerFiles.writeAtomically(files.stateFile(), content);
    ServerFiles.writeAtomically(files.pidFile(), pid + "\n");
  }

  /** The recorded state, or empty when there is none; a damaged file reads as none. */
  public static Optional<ServerState> read(ServerFiles files) {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(files.stateFile(), StandardCharsets.UTF_8)) {
      properties.load(in);
      String bucket = properties.getProperty("bucket");
      if (bucket == null || bucket.isBlank()) return Optional.empty();
      return Optional.of(new ServerState(Long.parseLong(properties.getProperty("pid")),
          Integer.parseInt(properties.getProperty("port")), bucket));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  public static void delete(ServerFiles files) throws IOException {
    Files.deleteIfExists(files.stateFile());
    Files.deleteIfExists(files.pidFile());
  }
}
