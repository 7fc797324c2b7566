package dev.similarity.s3.local;

import dev.similarity.kafka.local.internal.ChildJvm;
import dev.similarity.kafka.local.internal.LoopbackPorts;
import dev.similarity.s3.local.internal.ProxyLibrary;
import dev.similarity.s3.local.internal.S3ProxyProcessMain;
import dev.similarity.s3.local.internal.ServerFiles;
import dev.similarity.s3.local.internal.ServerState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Stream;

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
public final class LocalS3Server implements AutoCloseable {

  public static final String DEFAULT_BUCKET = "similarity";
  /** Loopback-only development credentials; S3Proxy refuses requests signed with others. */
  public static final String DEFAULT_ACCESS_KEY = "s3-local";
  public static final String DEFAULT_SECRET_KEY = "s3-local-secret";
  public static final String DEFAULT_HEAP = "256m";
  public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

  private static final String PROXY_MAIN = "org.gaul.s3proxy.Main";
  private static final int LOG_TAIL_LINES = 40;

  // Configuration (fixed).
  private final Path requestedDataDir;
  private final Path proxyLibDir;
  private final Path javaHome;
  private final String heap;
  private final int requestedPort;
  private final String bucket;
  private final String accessKey;
  private final String secretKey;
  private final Duration startupTimeout;
  private final Duration shutdownTimeout;
  private final boolean detached;

  // Run state, guarded by this.
  private Path dataDir;
  private boolean ownsDataDir;
  private ServerFiles files;
  private int port;
  private ProcessHandle process;
  /** The Process when this JVM started the server; keeps the watchdog's stdin pipe open. Null when attached. */
  private Process childProcess;
  private Thread shutdownHook;
  private boolean closed;

  private LocalS3Server(Builder builder, Path proxyLibDir, Path javaHome) {
    this.requestedDataDir = builder.dataDir == null ? null : builder.dataDir.toAbsolutePath().normalize();
    this.proxyLibDir = proxyLibDir;
    this.javaHome = javaHome;
    this.heap = builder.heap;
    this.requestedPort = builder.port;
    this.bucket = builder.bucket;
    this.accessKey = builder.accessKey;
    this.secretKey = builder.secretKey;
    this.startupTimeout = builder.startupTimeout;
    this.shutdownTimeout = builder.shutdownTimeout;
    this.detached = builder.detached;
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
    Optional<ServerState> state = ServerState.read(files);
    if (state.isEmpty()) return Optional.empty();
    Optional<ProcessHandle> handle = ProcessHandle.of(state.get().pid())
        .filter(ProcessHandle::isAlive)
        .filter(h -> runsFrom(h, files, state.get()));
    if (handle.isEmpty()) return Optional.empty();

    Builder builder = builder().dataDir(files.dataDir()).bucket(state.get().bucket())
        .accessKey(files.proxyProperty("s3proxy.identity").orElse(DEFAULT_ACCESS_KEY))
        .secretKey(files.proxyProperty("s3proxy.credential").orElse(DEFAULT_SECRET_KEY));
    LocalS3Server server = new LocalS3Server(builder, null, Path.of(System.getProperty("java.home")));
    server.dataDir = files.dataDir();
    server.files = files;
    server.port = state.get().port();
    server.process = handle.get();
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
  public synchronized LocalS3Server start() {
    if (closed) throw new IllegalStateException("this LocalS3Server was closed; build a new one");
    if (process != null) throw new IllegalStateException("already started: " + this);
    try {
      prepareDataDir();
      Optional<LocalS3Server> running = attach(dataDir);
      if (running.isPresent()) {
        throw new IllegalStateException("an S3 server started from " + dataDir + " is already running (" + running.get()
            + "); stop it first (scripts/s3-local stop, or close() the LocalS3Server that started it)");
      }
      ServerState.delete(files); // left behind by a server that died
      port = choosePort();
      // jclouds' filesystem provider: a folder under the base directory is a bucket.
      Files.createDirectories(files.bucketDir(bucket));
      files.writeLogConfig();
      files.writeProxyProperties(proxyProperties());
      launch();
      awaitStarted();
      if (!detached) {
        shutdownHook = new Thread(() -> shutDown(false), "s3-local-shutdown " + endpoint());
        Runtime.getRuntime().addShutdownHook(shutdownHook);
      }
      return this;
    } catch (IOException e) {
      shutDownAfterFailedStart();
      throw new UncheckedIOException("cannot start an S3 server in " + dataDir + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      shutDownAfterFailedStart();
      throw e;
    }
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
    if (dataDir == null) throw new IllegalStateException("no data directory yet: a temporary one is created by start()");
    return dataDir;
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

  /**
   * Stops the server (SIGTERM; SIGKILL after the shutdown timeout), forgets its recorded state and
   * deletes the data directory, objects included, if it was a temporary one. Safe to call twice.
   *
   * @throws IllegalStateException if the process survives even SIGKILL
   */
  @Override
  public void close() {
    shutDown(true);
  }

  @Override
  public synchronized String toString() {
    if (process == null) return "LocalS3Server[not started" + (requestedDataDir == null ? "" : ", " + requestedDataDir) + "]";
    return "LocalS3Server[" + endpoint() + ", bucket " + bucket + ", pid " + process.pid() + ", " + dataDir + "]";
  }

  private void prepareDataDir() throws IOException {
    if (requestedDataDir == null) {
      dataDir = Files.createTempDirectory("s3-local-");
      ownsDataDir = true;
    } else {
      dataDir = Files.createDirectories(requestedDataDir);
    }
    files = new ServerFiles(dataDir);
  }

  /** The requested port; else the previous run's port if still free (clients keep their endpoint); else any free one. */
  private int choosePort() {
    if (requestedPort != 0) {
      if (!LoopbackPorts.isFree(requestedPort)) {
        throw new IllegalStateException("port " + requestedPort + " on " + LoopbackPorts.HOST + " is already in use;"
            + " stop whatever listens there, choose another port (S3_LOCAL_PORT for scripts/s3-local), or use 0 for a free one");
      }
      return requestedPort;
    }
    return files.proxyProperty("s3proxy.endpoint")
        .map(endpoint -> endpoint.substring(endpoint.lastIndexOf(':') + 1))
        .flatMap(LocalS3Server::parsePort)
        .filter(LoopbackPorts::isFree)
        .orElseGet(LoopbackPorts::pickFree);
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

  private void launch() throws IOException {
    List<String> args = detached
        ? List.of(files.proxyProperties().toString())
        : List.of(S3ProxyProcessMain.EXIT_WHEN_STDIN_CLOSES, files.proxyProperties().toString());
    List<String> command = new ArrayList<>();
    command.add(javaHome.resolve("bin").resolve("java").toString());
    command.addAll(List.of("-Xmx" + heap, "-XX:+ExitOnOutOfMemoryError", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
        "-Dlogback.configurationFile=" + files.logConfig()));
    command.add("-cp");
    command.add(ProxyLibrary.classpath(proxyLibDir != null ? proxyLibDir : ProxyLibrary.locate()));
    command.add(S3ProxyProcessMain.class.getName());
    command.addAll(args);
    Path setsid = Path.of("/usr/bin/setsid");
    if (detached && Files.isExecutable(setsid)) {
      command.add(0, setsid.toString()); // own session: closing the terminal does not hang the server up
    }
    appendToLog("starting S3Proxy on " + LoopbackPorts.HOST + ":" + port + ", bucket " + bucket + " in "
        + files.bucketDir(bucket) + ": " + String.join(" ", command));
    ProcessBuilder processBuilder = new ProcessBuilder(command)
        .directory(dataDir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(files.logFile().toFile()));
    if (detached) processBuilder.redirectInput(ProcessBuilder.Redirect.from(ChildJvm.devNull()));
    childProcess = processBuilder.start();
    process = childProcess.toHandle();
    new ServerState(process.pid(), port, bucket).write(files);
  }

  private void awaitStarted() {
    long deadline = System.nanoTime() + startupTimeout.toNanos();
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("S3Proxy exited" + exitCodeText() + " while starting; last lines of "
            + files.logFile() + ":\n" + ChildJvm.tail(files.logFile(), LOG_TAIL_LINES));
      }
      if (LoopbackPorts.acceptsConnections(port)) return;
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("S3Proxy did not accept connections on " + LoopbackPorts.HOST + ":" + port
            + " within " + startupTimeout + "; raise startupTimeout if the machine is busy. Last lines of "
            + files.logFile() + ":\n" + ChildJvm.tail(files.logFile(), LOG_TAIL_LINES));
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for S3Proxy to start", e);
      }
    }
  }

  private String exitCodeText() {
    if (childProcess == null) return "";
    try {
      return " with code " + childProcess.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private void shutDownAfterFailedStart() {
    try {
      shutDown(true);
    } catch (RuntimeException suppressed) {
      // the start failure is the error to report
    }
  }

  private synchronized void shutDown(boolean removeHook) {
    if (closed) return;
    closed = true;
    if (removeHook && shutdownHook != null) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException alreadyShuttingDown) {
        // the hook is running or about to; it finds closed == true
      }
    }
    try {
      stopProcess();
    } finally {
      try {
        // Only the state of a server this handle ran or attached to; a refused start leaves a running server's alone.
        if (files != null && process != null) ServerState.delete(files);
        if (ownsDataDir) deleteRecursively(dataDir);
      } catch (IOException e) {
        System.err.println("[s3-local] could not clean up " + dataDir + ": " + e);
      }
    }
  }

  private void stopProcess() {
    if (process == null || !process.isAlive()) return;
    process.destroy();
    if (awaitExit(shutdownTimeout)) return;
    System.err.println("[s3-local] S3Proxy pid " + process.pid() + " ignored SIGTERM for " + shutdownTimeout + "; killing it");
    process.destroyForcibly();
    if (!awaitExit(Duration.ofSeconds(10))) {
      throw new IllegalStateException("S3Proxy pid " + process.pid() + " survived SIGKILL; stop it by hand");
    }
  }

  private boolean awaitExit(Duration timeout) {
    try {
      process.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return !process.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !process.isAlive();
    }
  }

  private void appendToLog(String line) throws IOException {
    Files.writeString(files.logFile(), "[" + Instant.now() + "] [s3-local] " + line + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private synchronized void requireStarted() {
    if (process == null) throw new IllegalStateException("the server is not started; call start() first");
  }

  /** Guards against a recycled pid: the process must be a server started with this data directory's configuration. */
  private static boolean runsFrom(ProcessHandle handle, ServerFiles files, ServerState state) {
    return handle.info().commandLine()
        .map(commandLine -> commandLine.contains(files.proxyProperties().toString()))
        .orElseGet(() -> LoopbackPorts.acceptsConnections(state.port()));
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (root == null || !Files.exists(root)) return;
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  /** Settings of a {@link LocalS3Server}; {@link #build()} checks them all. */
  public static final class Builder {

    private static final Pattern JVM_SIZE = Pattern.compile("[1-9][0-9]*[kKmMgG]?");
    /** S3's bucket naming rules, as far as a path-style local server needs them. */
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9+/=._-]{3,128}");

    private Path dataDir;
    private int port;
    private String bucket = DEFAULT_BUCKET;
    private String accessKey = DEFAULT_ACCESS_KEY;
    private String secretKey = DEFAULT_SECRET_KEY;
    private Path proxyLibDir;
    private Path javaHome;
    private String heap = DEFAULT_HEAP;
    private Duration startupTimeout = DEFAULT_STARTUP_TIMEOUT;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
    private boolean detached;

    private Builder() {}

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

    /** The Java installation that runs the server (17 or newer). Default: the one running this code. */
    public Builder javaHome(Path javaHome) {
      this.javaHome = javaHome;
      return this;
    }

    /** The server JVM's maximum heap as a JVM size, e.g. {@code 256m} (the default). */
    public Builder heap(String heap) {
      this.heap = heap;
      return this;
    }

    /** How long start() waits for the server. Default 60 s. */
    public Builder startupTimeout(Duration startupTimeout) {
      this.startupTimeout = startupTimeout;
      return this;
    }

    /** How long close() waits after SIGTERM before SIGKILL. Default 10 s. */
    public Builder shutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
      return this;
    }

    /**
     * Whether the server outlives this JVM: no shutdown hook, no parent watchdog, its own session.
     * Find it again with {@link LocalS3Server#attach}. Requires {@link #dataDir}.
     */
    public Builder detached(boolean detached) {
      this.detached = detached;
      return this;
    }

    /** @throws IllegalArgumentException or IllegalStateException naming the setting to fix */
    public LocalS3Server build() {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port is " + port + "; use 1-65535, or 0 for a free port");
      }
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
      if (heap == null || !JVM_SIZE.matcher(heap).matches()) {
        throw new IllegalArgumentException("heap is '" + heap + "'; give a JVM size such as 256m or 1g (it becomes -Xmx)");
      }
      checkPositive("startupTimeout", startupTimeout);
      checkPositive("shutdownTimeout", shutdownTimeout);
      if (detached && dataDir == null) {
        throw new IllegalArgumentException("detached(true) needs dataDir(...): a detached server is found again through its data directory");
      }
      Path java = javaHome != null ? javaHome : Path.of(System.getProperty("java.home"));
      if (!Files.isExecutable(java.resolve("bin").resolve("java"))) {
        throw new IllegalArgumentException("javaHome " + java + " has no executable bin/java; point javaHome at a Java 17+ installation");
      }
      Path lib = proxyLibDir != null ? ProxyLibrary.requireProxyJars(proxyLibDir, "proxyLibDir") : ProxyLibrary.locate();
      return new LocalS3Server(this, lib, java);
    }

    private static void checkPositive(String setting, Duration value) {
      Objects.requireNonNull(value, setting);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(setting + " is " + value + "; it must be positive");
      }
    }
  }
}
