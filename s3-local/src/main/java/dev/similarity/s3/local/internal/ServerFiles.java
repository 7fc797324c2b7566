package dev.similarity.s3.local.internal;

import dev.similarity.local.LocalFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

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
    return LocalFiles.readProperties(proxyProperties()).map(p -> p.getProperty(key));
  }

  public void writeProxyProperties(Map<String, String> properties) throws IOException {
    LocalFiles.writeProperties(proxyProperties(), "Written by LocalS3Server at every start; edits are lost.", properties);
  }

  public void writeLogConfig() throws IOException {
    // S3Proxy logs every request at DEBUG through logback; WARN and up, plus the line start() waits for.
    LocalFiles.writeAtomically(logConfig(), """
        <configuration>
          <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>[%d] %level %msg \\(%logger\\)%n</pattern></encoder>
          </appender>
          <logger name="org.gaul.shaded.org.eclipse.jetty.server.Server" level="INFO"/>
          <root level="WARN"><appender-ref ref="out"/></root>
        </configuration>
        """);
  }

  /** What a started server records here so that another process (the CLI's stop and status) can find it again. */
  public record State(long pid, int port, String bucket) {}

  /** Records a started server; the credentials stay in s3proxy.properties. */
  public void writeState(State state) throws IOException {
    Map<String, String> entries = new LinkedHashMap<>();
    entries.put("pid", Long.toString(state.pid()));
    entries.put("port", Integer.toString(state.port()));
    entries.put("bucket", state.bucket());
    LocalFiles.writeProperties(stateFile(), "A server started by LocalS3Server; removed when it stops.", entries);
    LocalFiles.writePid(pidFile(), state.pid());
  }

  /** The recorded state, or empty when there is none; a damaged file reads as none. */
  public Optional<State> readState() {
    return LocalFiles.readProperties(stateFile(), p -> {
      String bucket = p.getProperty("bucket");
      if (bucket == null || bucket.isBlank()) throw new IllegalArgumentException("no bucket");
      return new State(Long.parseLong(p.getProperty("pid")), Integer.parseInt(p.getProperty("port")), bucket);
    });
  }

  public void deleteState() throws IOException {
    Files.deleteIfExists(stateFile());
    Files.deleteIfExists(pidFile());
  }
}
