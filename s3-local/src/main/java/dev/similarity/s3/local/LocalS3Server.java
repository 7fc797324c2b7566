package dev.similarity.s3.local;

import dev.similarity.local.ChildJvm;
import dev.similarity.local.ChildProcess;
import dev.similarity.local.JarFolder;
import dev.similarity.local.LocalServer;
import dev.similarity.local.LocalServerBuilder;
import dev.similarity.local.LogFiles;
import dev.similarity.local.LoopbackPorts;
import dev.similarity.s3.local.internal.ServerFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A real S3-compatible server on 127.0.0.1: S3Proxy ({@code org.gaul:s3proxy}) serving a local
 * folder through jclouds' {@code filesystem-nio2} provider, in a child JVM from the jars in {@code
 * s3-local/target/s3proxy-lib}, with one bucket created at start and a fixed access key and secret
 * (AWS signatures V2 and V4 are checked). Each object is a plain file under {@link #bucketDir()},
 * so tests can look at, damage or delete what a client stored.
 *
 * <pre>{@code
 * try (LocalS3Server s3 = LocalS3Server.builder().build().start()) {
 *   FileSystem.initialize(Configuration.fromMap(s3.flinkSettings()), pluginManager); // Flink's S3 file system
 *   String snapshots = s3.uri("snapshots");                                    // s3://similarity/snapshots
 * }
 * }</pre>
 *
 * <p>Unless {@linkplain Builder#detached detached}, the server stops when this JVM exits (shutdown
 * hook) or dies (the child watches its stdin pipe).
 */
public final class LocalS3Server extends LocalServer {

  public static final String DEFAULT_BUCKET = "similarity";
  /** Loopback-only development credentials; S3Proxy refuses requests signed with others. */
  public static final String DEFAULT_ACCESS_KEY = "s3-local";
  public static final String DEFAULT_SECRET_KEY = "s3-local-secret";
  public static final String DEFAULT_HEAP = "256m";
  public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

  private static final String PROXY_MAIN = "org.gaul.s3proxy.Main";
  /** S3Proxy's jars, which s3-local's build copies to {@code s3-local/target/s3proxy-lib}. */
  static final JarFolder PROXY_LIB = new JarFolder("S3Proxy", "s3-local", "s3proxy-lib", "s3.local.lib",
      "LocalS3Server.Builder.proxyLibDir", List.of("s3proxy-"), "the s3proxy jar and its dependencies", LocalS3Server.class);

  // Configuration (fixed).
  private final Path proxyLibDir;
  private final Path javaHome;
  private final String heap;
  private final int requestedPort;
  private final String bucket;
  private final String accessKey;
  private final String secretKey;
  private final Duration startupTimeout;

  // Run state, guarded by this.
  private ServerFiles files;
  private int port;
  /** Started here (holding the watchdog's stdin pipe) or attached. */
  private ChildProcess process;

  private LocalS3Server(Builder builder, LocalServerBuilder.Shared shared, Path proxyLibDir) {
    super("LocalS3Server", "S3 server", "s3-local", builder.dataDir, shared);
    this.proxyLibDir = proxyLibDir;
    this.javaHome = shared.javaHome();
    this.heap = builder.heap;
    this.requestedPort = builder.port;
    this.bucket = builder.bucket;
    this.accessKey = builder.accessKey;
    this.secretKey = builder.secretKey;
    this.startupTimeout = shared.startupTimeout();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A handle on the server that an earlier {@link #start()} (in this or another process, e.g. the
   * {@code scripts/s3-local} CLI) left running from {@code dataDir}. Empty when none runs there.
   * Closing the handle stops that server.
   */
  public static Optional<LocalS3Server> attach(Path dataDir) {
    ServerFiles files = new ServerFiles(dataDir.toAbsolutePath().normalize());
    Optional<ServerFiles.State> state = files.readState();
    if (state.isEmpty()) return Optional.empty();
    // The server's command line names this data directory's s3proxy.properties.
    Optional<ProcessHandle> handle = ChildProcess.findRunning(state.get().pid(), files.proxyProperties().toString(),
        () -> LoopbackPorts.acceptsConnections(state.get().port()));
    if (handle.isEmpty()) return Optional.empty();

    Builder builder = builder().dataDir(files.dataDir()).bucket(state.get().bucket())
        .accessKey(files.proxyProperty("s3proxy.identity").orElse(DEFAULT_ACCESS_KEY))
        .secretKey(files.proxyProperty("s3proxy.credential").orElse(DEFAULT_SECRET_KEY));
    LocalS3Server server = new LocalS3Server(builder, builder.shared(), null);
    synchronized (server) {
      server.attachedTo(files.dataDir());
      server.files = files;
      server.port = state.get().port();
      server.process = ChildProcess.attached("S3Proxy", handle.get());
    }
    return Optional.of(server);
  }

  /**
   * Creates the bucket's folder if it has none yet, launches the server and waits until it accepts
   * connections.
   *
   * @return this, for {@code try (var s3 = builder.build().start())}
   * @throws IllegalStateException if it cannot start, with the server log's last lines; nothing is
   *     left running and a temporary data directory is deleted
   */
  public LocalS3Server start() {
    startServer();
    return this;
  }

  /** {@code http://127.0.0.1:PORT}, for Flink's {@code s3.endpoint} and any S3 client. */
  public synchronized String endpoint() {
    requireStarted();
    return "http://" + LoopbackPorts.HOST + ":" + port;
  }

  public synchronized int port() {
    requireStarted();
    return port;
  }

  /** The bucket created at start. */
  public String bucket() {
    return bucket;
  }

  public String accessKey() {
    return accessKey;
  }

  public String secretKey() {
    return secretKey;
  }

  /** {@code s3://BUCKET/path}, e.g. {@code uri("snapshots")} for a job's {@code snapshot.dir}. */
  public String uri(String path) {
    String relative = path.startsWith("/") ? path.substring(1) : path;
    return "s3://" + bucket + (relative.isEmpty() ? "" : "/" + relative);
  }

  /**
   * Flink's configuration keys of its S3 file systems ({@code flink-s3-fs-presto} or {@code -hadoop})
   * for this server: endpoint, path-style access (the bucket in the path, as S3Proxy serves it) and
   * the credentials. A cluster's config.yaml, {@code FileSystem.initialize}, or the search service's
   * {@code fileSystemSettings} take them as they are.
   */
  public synchronized Map<String, String> flinkSettings() {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("s3.endpoint", endpoint());
    settings.put("s3.path.style.access", "true");
    settings.put("s3.access-key", accessKey);
    settings.put("s3.secret-key", secretKey);
    return settings;
  }

  public synchronized Path dataDir() {
    return folder("data directory");
  }

  /** The bucket's backing folder: the object {@code a/b.json} is the file {@code bucketDir()/a/b.json}. */
  public synchronized Path bucketDir() {
    return new ServerFiles(dataDir()).bucketDir(bucket);
  }

  /** The server JVM's output, appended across restarts. */
  public synchronized Path logFile() {
    return new ServerFiles(dataDir()).logFile();
  }

  public synchronized long pid() {
    requireStarted();
    return process.pid();
  }

  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** As {@link LocalServer#close()}; the objects of a temporary data directory go with it. */
  @Override
  public void close() {
    super.close();
  }

  @Override
  public synchronized String toString() {
    if (process == null) return "LocalS3Server[not started" + knownFolder().map(f -> ", " + f).orElse("") + "]";
    return "LocalS3Server[" + endpoint() + ", bucket " + bucket + ", pid " + process.pid() + ", " + folderText() + "]";
  }

  @Override
  protected void useFolder(Path dataDir) {
    files = new ServerFiles(dataDir);
  }

  @Override
  protected Optional<LocalS3Server> runningFrom(Path dataDir) {
    return attach(dataDir);
  }

  /** The port, the bucket's folder if it has none yet, the configuration, the server JVM; returns once it accepts connections. */
  @Override
  protected void launch() throws IOException {
    files.deleteState(); // left behind by a server that died
    Optional<Integer> previousPort = files.proxyProperty("s3proxy.endpoint")
        .map(endpoint -> endpoint.substring(endpoint.lastIndexOf(':') + 1))
        .flatMap(LocalS3Server::parsePort);
    port = LoopbackPorts.choose("port", requestedPort, previousPort, Set.of(), "S3_LOCAL_PORT for scripts/s3-local");
    // jclouds' filesystem provider: a folder under the base directory is a bucket.
    Files.createDirectories(files.bucketDir(bucket));
    files.writeLogConfig();
    files.writeProxyProperties(proxyProperties());
    startProxy();
    process.awaitReady("S3Proxy", "accept connections on " + LoopbackPorts.HOST + ":" + port,
        () -> LoopbackPorts.acceptsConnections(port), startupTimeout, files.logFile());
  }

  @Override
  protected List<ChildProcess> processes() {
    return process == null ? List.of() : List.of(process);
  }

  @Override
  protected void forgetState() throws IOException {
    files.deleteState();
  }

  private static Optional<Integer> parsePort(String text) {
    try {
      return Optional.of(Integer.parseInt(text));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  private Map<String, String> proxyProperties() {
    Map<String, String> properties = new LinkedHashMap<>();
    properties.put("s3proxy.endpoint", "http://" + LoopbackPorts.HOST + ":" + port);
    properties.put("s3proxy.authorization", "aws-v2-or-v4");
    properties.put("s3proxy.identity", accessKey);
    properties.put("s3proxy.credential", secretKey);
    // Objects as plain files below the base directory, one folder per bucket.
    properties.put("jclouds.provider", "filesystem-nio2");
    properties.put("jclouds.identity", accessKey);
    properties.put("jclouds.credential", secretKey);
    properties.put("jclouds.filesystem.basedir", files.bucketsDir().toString());
    return properties;
  }

  private void startProxy() throws IOException {
    List<String> command = new ChildJvm(javaHome, proxyLibDir != null ? proxyLibDir : PROXY_LIB.locate()).serverCommand(
        List.of("-Xmx" + heap, "-XX:+ExitOnOutOfMemoryError", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
            "-Dlogback.configurationFile=" + files.logConfig()),
        PROXY_MAIN, List.of("--properties", files.proxyProperties().toString()), detached());
    LogFiles.append(files.logFile(), tag(), "starting S3Proxy on " + LoopbackPorts.HOST + ":" + port + ", bucket " + bucket + " in "
        + files.bucketDir(bucket) + ": " + String.join(" ", command));
    process = ChildJvm.start("S3Proxy", command, folder("data directory"), files.logFile(), detached(), Map.of());
    files.writeState(new ServerFiles.State(process.pid(), port, bucket));
  }

  private synchronized void requireStarted() {
    if (process == null) throw new IllegalStateException("the server is not started; call start() first");
  }

  /** Settings of a {@link LocalS3Server}; {@link #build()} checks them all. */
  public static final class Builder extends LocalServerBuilder<Builder> {

    /** S3's bucket naming rules, as far as a path-style local server needs them. */
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9+/=._-]{3,128}");

    private Path dataDir;
    private int port;
    private String bucket = DEFAULT_BUCKET;
    private String accessKey = DEFAULT_ACCESS_KEY;
    private String secretKey = DEFAULT_SECRET_KEY;
    private Path proxyLibDir;
    private String heap = DEFAULT_HEAP;

    private Builder() {
      super(DEFAULT_STARTUP_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT);
    }

    /** Where the server keeps its configuration, log and objects. Default: a temporary directory, deleted by close(). */
    public Builder dataDir(Path dataDir) {
      this.dataDir = dataDir;
      return this;
    }

    /** The port on 127.0.0.1. Default 0: the previous run's port if free, else any free port. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** The bucket created at start (S3 naming: 3-63 lowercase letters, digits, '.', '-'); default {@value LocalS3Server#DEFAULT_BUCKET}. */
    public Builder bucket(String bucket) {
      this.bucket = bucket;
      return this;
    }

    /** The access key id clients sign with; default {@value LocalS3Server#DEFAULT_ACCESS_KEY}. */
    public Builder accessKey(String accessKey) {
      this.accessKey = accessKey;
      return this;
    }

    /** The secret key clients sign with; default {@value LocalS3Server#DEFAULT_SECRET_KEY}. */
    public Builder secretKey(String secretKey) {
      this.secretKey = secretKey;
      return this;
    }

    /**
     * Directory of S3Proxy's jars. Default: system property {@code s3.local.lib}, else {@code
     * s3-local/target/s3proxy-lib} found next to this module's classes or above the working directory.
     */
    public Builder proxyLibDir(Path proxyLibDir) {
      this.proxyLibDir = proxyLibDir;
      return this;
    }

    /** The server JVM's maximum heap as a JVM size, e.g. {@code 256m} (the default). */
    public Builder heap(String heap) {
      this.heap = heap;
      return this;
    }

    /** @throws IllegalArgumentException or IllegalStateException naming the setting to fix */
    public LocalS3Server build() {
      checkPort("port", port);
      if (bucket == null || !BUCKET.matcher(bucket).matches() || bucket.contains("..")) {
        throw new IllegalArgumentException("bucket is '" + bucket + "'; an S3 bucket name has 3-63 lowercase letters,"
            + " digits, '.' and '-', and starts and ends with a letter or digit, e.g. " + DEFAULT_BUCKET);
      }
      if (accessKey == null || !KEY.matcher(accessKey).matches()) {
        throw new IllegalArgumentException("accessKey is '" + accessKey + "'; give 3-128 letters, digits or + / = . _ -");
      }
      if (secretKey == null || !KEY.matcher(secretKey).matches()) {
        throw new IllegalArgumentException("secretKey is not 3-128 letters, digits or + / = . _ -");
      }
      checkJvmSize("heap", heap, "256m or 1g");
      LocalServerBuilder.Shared shared = checkShared("dataDir", dataDir);
      Path lib = proxyLibDir != null ? PROXY_LIB.require(proxyLibDir, "proxyLibDir") : PROXY_LIB.locate();
      return new LocalS3Server(this, shared, lib);
    }
  }
}
