package dev.similarity.s3.local.internal;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Layout of a server's data directory. Everything the server owns lives under it, so deleting it
 * (with the server stopped) forgets the server and every object.
 *
 * <pre>
 * dataDir/
 *   s3-local.properties   pid, port, bucket of the running server (absent when stopped)
 *   s3proxy.pid           the same pid, for people and shell scripts
 *   s3proxy.log           the server JVM's output, appended across restarts
 *   s3proxy.properties    S3Proxy's configuration (endpoint, credentials, backing folder), rewritten at every start
 *   logback.xml           the server's logging, rewritten at every start
 *   buckets/              the backing folder: one folder per bucket, one file per object
 *     BUCKET/KEY...       e.g. buckets/similarity/snapshots/shard-0000/manifests/00000000000000000007.json
 * </pre>
 */
public record ServerFiles(Path dataDir) {

  public Path stateFile() { return dataDir.resolve("s3-local.properties"); }
  public Path pidFile() { return dataDir.resolve("s3proxy.pid"); }
  public Path logFile() { return dataDir.resolve("s3proxy.log"); }
  public Path proxyProperties() { return dataDir.resolve("s3proxy.properties"); }
  public Path logConfig() { return dataDir.resolve("logback.xml"); }
  public Path bucketsDir() { return dataDir.resolve("buckets"); }
  public Path bucketDir(String bucket) { return bucketsDir().resolve(bucket); }

  /** A value of the s3proxy.properties the last start wrote; empty before the first start. */
  public Optional<String> proxyProperty(String key) {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(proxyProperties(), StandardCharsets.UTF_8)) {
      properties.load(in);
      return Optional.ofNullable(properties.getProperty(key));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  public void writeProxyProperties(Map<String, String> properties) throws IOException {
    StringBuilder out = new StringBuilder("# Written by LocalS3Server at every start; edits are lost.\n");
    properties.forEach((key, value) -> out.append(key).append('=').append(value.replace("\\", "\\\\")).append('\n'));
    writeAtomically(proxyProperties(), out.toString());
  }

  public void writeLogConfig() throws IOException {
    // S3Proxy logs every request at DEBUG through logback; WARN and up, plus the line start() waits for.
    writeAtomically(logConfig(), """
        <configuration>
          <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>[%d] %level %msg \\(%logger\\)%n</pattern></encoder>
          </appender>
          <logger name="org.gaul.shaded.org.eclipse.jetty.server.Server" level="INFO"/>
          <root level="WARN"><appender-ref ref="out"/></root>
        </configuration>
        """);
  }

  static void writeAtomically(Path file, String content) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temp, content, StandardCharsets.UTF_8);
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
