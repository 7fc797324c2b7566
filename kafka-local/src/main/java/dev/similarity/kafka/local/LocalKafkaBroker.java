package dev.similarity.kafka.local;

import dev.similarity.kafka.local.internal.BrokerFiles;
import dev.similarity.kafka.local.internal.BrokerLibrary;
import dev.similarity.kafka.local.internal.BrokerProcessMain;
import dev.similarity.kafka.local.internal.BrokerState;
import dev.similarity.kafka.local.internal.ChildJvm;
import dev.similarity.kafka.local.internal.KafkaClusterIds;
import dev.similarity.kafka.local.internal.LoopbackPorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
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
 * A real single-node Kafka broker (KRaft, broker and controller in one process) running in a child
 * JVM from the jars in {@code kafka-local/target/broker-lib}. The broker's Kafka 4.x classes never
 * meet the caller's class path, so a job on another kafka-clients version can talk to it.
 *
 * <pre>{@code
 * try (LocalKafkaBroker kafka = LocalKafkaBroker.builder().build().start()) {
 *   producerProps.put("bootstrap.servers", kafka.bootstrapServers());
 *   producerProps.put("transaction.timeout.ms", kafka.transactionMaxTimeoutMs() / 2);
 * }
 * }</pre>
 *
 * <p>Listeners bind to 127.0.0.1 only. Unless {@linkplain Builder#detached detached}, the broker
 * stops when this JVM exits (shutdown hook) or dies (the child watches its stdin pipe).
 */
public final class LocalKafkaBroker implements AutoCloseable {

  public static final long DEFAULT_TRANSACTION_MAX_TIMEOUT_MS = 900_000L;
  public static final String DEFAULT_HEAP = "512m";
  public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(90);
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  /** Logged by kafka.server.KafkaRaftServer once broker and controller are up. */
  static final String STARTED_LOG_LINE = "Kafka Server started";
  private static final String STORAGE_TOOL = "kafka.tools.StorageTool";
  private static final String TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand";
  private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);
  private static final int LOG_TAIL_LINES = 40;

  // Configuration (fixed).
  private final Path requestedDataDir;
  private final Path brokerLibDir;
  private final Path javaHome;
  private final String heap;
  private final int requestedPort;
  private final int requestedControllerPort;
  private final Map<String, String> extraBrokerProperties;
  private final long transactionMaxTimeoutMs;
  private final Duration startupTimeout;
  private final Duration shutdownTimeout;
  private final boolean detached;

  // Run state, guarded by this.
  private Path dataDir;
  private boolean ownsDataDir;
  private BrokerFiles files;
  private int port;
  private int controllerPort;
  private ProcessHandle process;
  /** The Process when this JVM started the broker; keeps the watchdog's stdin pipe open. Null when attached. */
  private Process childProcess;
  private Thread shutdownHook;
  private boolean closed;

  private LocalKafkaBroker(Builder builder, Path brokerLibDir, Path javaHome) {
    this.requestedDataDir = builder.dataDir == null ? null : builder.dataDir.toAbsolutePath().normalize();
    this.brokerLibDir = brokerLibDir;
    this.javaHome = javaHome;
    this.heap = builder.heap;
    this.requestedPort = builder.port;
    this.requestedControllerPort = builder.controllerPort;
    this.extraBrokerProperties = Map.copyOf(builder.brokerProperties);
    this.transactionMaxTimeoutMs = builder.transactionMaxTimeoutMs;
    this.startupTimeout = builder.startupTimeout;
    this.shutdownTimeout = builder.shutdownTimeout;
    this.detached = builder.detached;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A handle on the broker that an earlier {@link #start()} (in this or another process, e.g. the
   * {@code scripts/kafka-local} CLI) left running from {@code dataDir}. Empty when none runs there.
   * Closing the handle stops that broker.
   */
  public static Optional<LocalKafkaBroker> attach(Path dataDir) {
    BrokerFiles files = new BrokerFiles(dataDir.toAbsolutePath().normalize());
    Optional<BrokerState> state = BrokerState.read(files);
    if (state.isEmpty()) return Optional.empty();
    Optional<ProcessHandle> handle = ProcessHandle.of(state.get().pid())
        .filter(ProcessHandle::isAlive)
        .filter(h -> runsFrom(h, files, state.get()));
    if (handle.isEmpty()) return Optional.empty();

    Builder builder = builder().dataDir(files.dataDir()).transactionMaxTimeoutMs(state.get().transactionMaxTimeoutMs());
    LocalKafkaBroker broker = new LocalKafkaBroker(builder, null, Path.of(System.getProperty("java.home")));
    broker.dataDir = files.dataDir();
    broker.files = files;
    broker.port = state.get().port();
    broker.controllerPort = state.get().controllerPort();
    broker.process = handle.get();
    return Optional.of(broker);
  }

  /**
   * Formats the storage if this data directory has none yet, launches the broker and waits until
   * it has logged that it started and accepts connections.
   *
   * @return this, for {@code try (var kafka = builder.build().start())}
   * @throws IllegalStateException if it cannot start, with the broker log's last lines; nothing is
   *     left running and a temporary data directory is deleted
   */
  public synchronized LocalKafkaBroker start() {
    if (closed) throw new IllegalStateException("this LocalKafkaBroker was closed; build a new one");
    if (process != null) throw new IllegalStateException("already started: " + this);
    try {
      prepareDataDir();
      Optional<LocalKafkaBroker> running = attach(dataDir);
      if (running.isPresent()) {
        throw new IllegalStateException("a broker started from " + dataDir + " is already running (" + running.get()
            + "); stop it first (scripts/kafka-local stop, or close() the LocalKafkaBroker that started it)");
      }
      BrokerState.delete(files); // left behind by a broker that died
      Optional<BrokerFiles.Ports> previous = files.previousPorts();
      port = choosePort("port", requestedPort, previous.map(BrokerFiles.Ports::client), -1);
      controllerPort = choosePort("controllerPort", requestedControllerPort, previous.map(BrokerFiles.Ports::controller), port);

      files.writeLogConfigs();
      files.writeServerProperties(serverProperties());
      if (!Files.exists(files.metaProperties())) formatStorage();
      long logOffset = launch();
      awaitStarted(logOffset);
      if (!detached) {
        shutdownHook = new Thread(() -> shutDown(false), "kafka-local-shutdown " + bootstrapServers());
        Runtime.getRuntime().addShutdownHook(shutdownHook);
      }
      return this;
    } catch (IOException e) {
      shutDownAfterFailedStart();
      throw new UncheckedIOException("cannot start a Kafka broker in " + dataDir + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      shutDownAfterFailedStart();
      throw e;
    }
  }

  /** {@code 127.0.0.1:port}, for {@code bootstrap.servers}. */
  public synchronized String bootstrapServers() {
    requireStarted();
    return LoopbackPorts.HOST + ":" + port;
  }

  public synchronized int port() {
    requireStarted();
    return port;
  }

  public synchronized int controllerPort() {
    requireStarted();
    return controllerPort;
  }

  /**
   * The broker's {@code transaction.max.timeout.ms}. A transactional producer's
   * {@code transaction.timeout.ms} must not exceed it or the broker refuses the producer.
   */
  public long transactionMaxTimeoutMs() {
    return transactionMaxTimeoutMs;
  }

  public synchronized Path dataDir() {
    if (dataDir == null) throw new IllegalStateException("no data directory yet: a temporary one is created by start()");
    return dataDir;
  }

  /** The broker JVM's output, appended across restarts. */
  public synchronized Path logFile() {
    return new BrokerFiles(dataDir()).logFile();
  }

  public synchronized long pid() {
    requireStarted();
    return process.pid();
  }

  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /**
   * Runs Kafka's {@code kafka-topics} against this broker and returns its output, e.g.
   * {@code kafkaTopics("--create", "--topic", "t", "--partitions", "4")} or {@code kafkaTopics("--list")}.
   *
   * @throws IllegalStateException if the tool fails, with its output
   */
  public String kafkaTopics(String... args) {
    List<String> command = new ArrayList<>(List.of("--bootstrap-server", bootstrapServers()));
    command.addAll(Arrays.asList(args));
    BrokerFiles brokerFiles;
    synchronized (this) {
      brokerFiles = files;
    }
    ChildJvm.Result result = childJvm().runToCompletion(brokerFiles.toolsLogConfig(), TOPIC_COMMAND, command, TOOL_TIMEOUT);
    if (result.exitCode() != 0) {
      throw new IllegalStateException("kafka-topics " + String.join(" ", args) + " against " + bootstrapServers()
          + " failed with exit code " + result.exitCode() + ":\n" + result.output().strip());
    }
    return result.output();
  }

  /**
   * Stops the broker (SIGTERM, so Kafka shuts down cleanly; SIGKILL after the shutdown timeout),
   * forgets its recorded state and deletes the data directory if it was a temporary one. Safe to
   * call twice.
   *
   * @throws IllegalStateException if the process survives even SIGKILL
   */
  @Override
  public void close() {
    shutDown(true);
  }

  @Override
  public synchronized String toString() {
    if (process == null) return "LocalKafkaBroker[not started" + (requestedDataDir == null ? "" : ", " + requestedDataDir) + "]";
    return "LocalKafkaBroker[" + LoopbackPorts.HOST + ":" + port + ", pid " + process.pid() + ", " + dataDir + "]";
  }

  private void prepareDataDir() throws IOException {
    if (requestedDataDir == null) {
      dataDir = Files.createTempDirectory("kafka-local-");
      ownsDataDir = true;
    } else {
      dataDir = Files.createDirectories(requestedDataDir);
    }
    files = new BrokerFiles(dataDir);
  }

  /** The requested port; else the previous run's port if still free (clients keep their address); else any free one. */
  private static int choosePort(String setting, int requested, Optional<Integer> previous, int taken) {
    if (requested != 0) {
      if (!LoopbackPorts.isFree(requested)) {
        throw new IllegalStateException(setting + " " + requested + " on " + LoopbackPorts.HOST + " is already in use;"
            + " stop whatever listens there, choose another port (KAFKA_PORT for scripts/kafka-local), or use 0 for a free one");
      }
      return requested;
    }
    if (previous.isPresent() && previous.get() != taken && LoopbackPorts.isFree(previous.get())) return previous.get();
    int port;
    do {
      port = LoopbackPorts.pickFree();
    } while (port == taken);
    return port;
  }

  private Map<String, String> serverProperties() {
    String broker = LoopbackPorts.HOST + ":" + port;
    String controller = LoopbackPorts.HOST + ":" + controllerPort;
    Map<String, String> properties = new LinkedHashMap<>();
    properties.put("process.roles", "broker,controller");
    properties.put("node.id", "1");
    properties.put("controller.quorum.bootstrap.servers", controller);
    properties.put("listeners", "PLAINTEXT://" + broker + ",CONTROLLER://" + controller);
    properties.put("advertised.listeners", "PLAINTEXT://" + broker + ",CONTROLLER://" + controller);
    properties.put("controller.listener.names", "CONTROLLER");
    properties.put("inter.broker.listener.name", "PLAINTEXT");
    properties.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    properties.put("log.dirs", files.logDirs().toString());
    properties.put("transaction.max.timeout.ms", Long.toString(transactionMaxTimeoutMs));
    // One node: every internal topic has one replica.
    properties.put("offsets.topic.replication.factor", "1");
    properties.put("transaction.state.log.replication.factor", "1");
    properties.put("transaction.state.log.min.isr", "1");
    properties.put("share.coordinator.state.topic.replication.factor", "1");
    properties.put("share.coordinator.state.topic.min.isr", "1");
    properties.put("default.replication.factor", "1");
    properties.put("min.insync.replicas", "1");
    // Fewer internal partitions than the production 50: the first consumer group and the first
    // transaction come up in a fraction of the time.
    properties.put("offsets.topic.num.partitions", "4");
    properties.put("transaction.state.log.num.partitions", "4");
    properties.put("group.initial.rebalance.delay.ms", "0");
    properties.put("auto.create.topics.enable", "false");
    properties.put("num.partitions", "4");
    properties.putAll(extraBrokerProperties);
    return properties;
  }

  private void formatStorage() throws IOException {
    String clusterId = KafkaClusterIds.random();
    appendToLog("formatting " + files.logDirs() + " for new cluster " + clusterId);
    ChildJvm.Result result = childJvm().runToCompletion(files.toolsLogConfig(), STORAGE_TOOL,
        List.of("format", "-t", clusterId, "-c", files.serverProperties().toString(), "--standalone"), TOOL_TIMEOUT);
    appendToLog(result.output().strip());
    if (result.exitCode() != 0 || !Files.exists(files.metaProperties())) {
      throw new IllegalStateException("formatting the broker storage in " + files.logDirs() + " failed (exit code "
          + result.exitCode() + "); storage tool output:\n" + result.output().strip());
    }
  }

  /** Starts the broker JVM; returns the log size before it, where start-up output begins. */
  private long launch() throws IOException {
    long logOffset = Files.exists(files.logFile()) ? Files.size(files.logFile()) : 0;
    List<String> args = detached
        ? List.of(files.serverProperties().toString())
        : List.of(BrokerProcessMain.EXIT_WHEN_STDIN_CLOSES, files.serverProperties().toString());
    List<String> command = new ArrayList<>(childJvm().command(
        List.of("-Xmx" + heap, "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
            "-Dlog4j2.configurationFile=" + files.brokerLogConfig()),
        BrokerProcessMain.class.getName(), args));
    Path setsid = Path.of("/usr/bin/setsid");
    if (detached && Files.isExecutable(setsid)) {
      command.add(0, setsid.toString()); // own session: closing the terminal does not hang the broker up
    }
    appendToLog("starting broker on " + LoopbackPorts.HOST + ":" + port + " (controller " + controllerPort + "): "
        + String.join(" ", command));
    ProcessBuilder processBuilder = new ProcessBuilder(command)
        .directory(dataDir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(files.logFile().toFile()));
    if (detached) processBuilder.redirectInput(ProcessBuilder.Redirect.from(ChildJvm.devNull()));
    childProcess = processBuilder.start();
    process = childProcess.toHandle();
    new BrokerState(process.pid(), port, controllerPort, transactionMaxTimeoutMs).write(files);
    return logOffset;
  }

  private void awaitStarted(long logOffset) throws IOException {
    long deadline = System.nanoTime() + startupTimeout.toNanos();
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the Kafka broker exited" + exitCodeText() + " while starting; last lines of "
            + files.logFile() + ":\n" + ChildJvm.tail(files.logFile(), LOG_TAIL_LINES));
      }
      if (logContains(logOffset, STARTED_LOG_LINE) && LoopbackPorts.acceptsConnections(port)) return;
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the Kafka broker did not log '" + STARTED_LOG_LINE + "' and accept connections on "
            + LoopbackPorts.HOST + ":" + port + " within " + startupTimeout + "; raise startupTimeout if the machine is busy."
            + " Last lines of " + files.logFile() + ":\n" + ChildJvm.tail(files.logFile(), LOG_TAIL_LINES));
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the Kafka broker to start", e);
      }
    }
  }

  private boolean logContains(long offset, String text) throws IOException {
    try (var channel = Files.newByteChannel(files.logFile())) {
      long length = channel.size() - offset;
      if (length <= 0) return false;
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(length, 16 * 1024 * 1024));
      channel.position(offset);
      while (buffer.hasRemaining() && channel.read(buffer) > 0) {
        // fill
      }
      return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).contains(text);
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
        // Only the state of a broker this handle ran or attached to; a refused start leaves a running broker's alone.
        if (files != null && process != null) BrokerState.delete(files);
        if (ownsDataDir) deleteRecursively(dataDir);
      } catch (IOException e) {
        System.err.println("[kafka-local] could not clean up " + dataDir + ": " + e);
      }
    }
  }

  private void stopProcess() {
    if (process == null || !process.isAlive()) return;
    process.destroy(); // SIGTERM: Kafka's shutdown hook runs a controlled shutdown
    if (awaitExit(shutdownTimeout)) return;
    System.err.println("[kafka-local] broker pid " + process.pid() + " ignored SIGTERM for " + shutdownTimeout + "; killing it");
    process.destroyForcibly();
    if (!awaitExit(Duration.ofSeconds(10))) {
      throw new IllegalStateException("Kafka broker pid " + process.pid() + " survived SIGKILL; stop it by hand");
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
    Files.writeString(files.logFile(), "[" + Instant.now() + "] [kafka-local] " + line + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  private ChildJvm childJvm() {
    return new ChildJvm(javaHome, brokerLibDir != null ? brokerLibDir : BrokerLibrary.locate());
  }

  private synchronized void requireStarted() {
    if (process == null) throw new IllegalStateException("the broker is not started; call start() first");
  }

  /** Guards against a recycled pid: the process must be a broker started with this data directory's server.properties. */
  private static boolean runsFrom(ProcessHandle handle, BrokerFiles files, BrokerState state) {
    return handle.info().commandLine()
        .map(commandLine -> commandLine.contains(files.serverProperties().toString()))
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

  /** Settings of a {@link LocalKafkaBroker}; {@link #build()} checks them all. */
  public static final class Builder {

    private static final Pattern JVM_SIZE = Pattern.compile("[1-9][0-9]*[kKmMgG]?");

    /** Properties that LocalKafkaBroker derives itself, with the setting to use instead. */
    private static final Map<String, String> MANAGED_PROPERTIES = Map.ofEntries(
        Map.entry("process.roles", "nothing: the broker is always broker and controller"),
        Map.entry("node.id", "nothing: the single node is node 1"),
        Map.entry("listeners", "port() and controllerPort()"),
        Map.entry("advertised.listeners", "port() and controllerPort()"),
        Map.entry("controller.listener.names", "controllerPort()"),
        Map.entry("controller.quorum.bootstrap.servers", "controllerPort()"),
        Map.entry("controller.quorum.voters", "controllerPort()"),
        Map.entry("inter.broker.listener.name", "port()"),
        Map.entry("listener.security.protocol.map", "nothing: both listeners are PLAINTEXT on 127.0.0.1"),
        Map.entry("log.dirs", "dataDir()"),
        Map.entry("log.dir", "dataDir()"),
        Map.entry("metadata.log.dir", "dataDir()"),
        Map.entry("transaction.max.timeout.ms", "transactionMaxTimeoutMs()"));

    private Path dataDir;
    private int port;
    private int controllerPort;
    private Path brokerLibDir;
    private Path javaHome;
    private String heap = DEFAULT_HEAP;
    private final Map<String, String> brokerProperties = new LinkedHashMap<>();
    private long transactionMaxTimeoutMs = DEFAULT_TRANSACTION_MAX_TIMEOUT_MS;
    private Duration startupTimeout = DEFAULT_STARTUP_TIMEOUT;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
    private boolean detached;

    private Builder() {}

    /** Where the broker keeps everything. Default: a temporary directory, deleted by close(). A directory used before keeps its topics. */
    public Builder dataDir(Path dataDir) {
      this.dataDir = dataDir;
      return this;
    }

    /** The client port on 127.0.0.1. Default 0: the previous run's port if free, else any free port. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** The KRaft controller port on 127.0.0.1. Default 0, chosen like {@link #port}. */
    public Builder controllerPort(int controllerPort) {
      this.controllerPort = controllerPort;
      return this;
    }

    /**
     * Directory of the broker's jars. Default: system property {@code kafka.local.lib}, else
     * {@code kafka-local/target/broker-lib} found next to this module's classes or above the
     * working directory.
     */
    public Builder brokerLibDir(Path brokerLibDir) {
      this.brokerLibDir = brokerLibDir;
      return this;
    }

    /** The Java installation that runs the broker (21 or newer). Default: the one running this code. */
    public Builder javaHome(Path javaHome) {
      this.javaHome = javaHome;
      return this;
    }

    /** The broker JVM's maximum heap as a JVM size, e.g. {@code 512m} (the default) or {@code 1g}. */
    public Builder heap(String heap) {
      this.heap = heap;
      return this;
    }

    /** One more broker property, overriding the single-node defaults; the properties derived from other settings are refused. */
    public Builder brokerProperty(String key, String value) {
      brokerProperties.put(key, value);
      return this;
    }

    public Builder brokerProperties(Map<String, String> properties) {
      brokerProperties.putAll(properties);
      return this;
    }

    /** The broker's {@code transaction.max.timeout.ms}; default 900000 (15 minutes). */
    public Builder transactionMaxTimeoutMs(long transactionMaxTimeoutMs) {
      this.transactionMaxTimeoutMs = transactionMaxTimeoutMs;
      return this;
    }

    /** How long start() waits for the broker (format included). Default 90 s. */
    public Builder startupTimeout(Duration startupTimeout) {
      this.startupTimeout = startupTimeout;
      return this;
    }

    /** How long close() waits after SIGTERM before SIGKILL. Default 30 s. */
    public Builder shutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = shutdownTimeout;
      return this;
    }

    /**
     * Whether the broker outlives this JVM: no shutdown hook, no parent watchdog, its own session.
     * Find it again with {@link LocalKafkaBroker#attach}. Requires {@link #dataDir}.
     */
    public Builder detached(boolean detached) {
      this.detached = detached;
      return this;
    }

    /** @throws IllegalArgumentException or IllegalStateException naming the setting to fix */
    public LocalKafkaBroker build() {
      checkPort("port", port);
      checkPort("controllerPort", controllerPort);
      if (port != 0 && port == controllerPort) {
        throw new IllegalArgumentException("port and controllerPort are both " + port
            + "; the client and controller listeners need different ports (or 0 for free ones)");
      }
      if (heap == null || !JVM_SIZE.matcher(heap).matches()) {
        throw new IllegalArgumentException("heap is '" + heap + "'; give a JVM size such as 512m or 1g (it becomes -Xmx)");
      }
      if (transactionMaxTimeoutMs <= 0) {
        throw new IllegalArgumentException("transactionMaxTimeoutMs is " + transactionMaxTimeoutMs + "; it must be positive");
      }
      checkPositive("startupTimeout", startupTimeout);
      checkPositive("shutdownTimeout", shutdownTimeout);
      for (Map.Entry<String, String> property : brokerProperties.entrySet()) {
        if (property.getKey() == null || property.getKey().isBlank() || property.getValue() == null) {
          throw new IllegalArgumentException("brokerProperty " + property.getKey() + "=" + property.getValue()
              + " needs a key and a value");
        }
        String instead = MANAGED_PROPERTIES.get(property.getKey().trim());
        if (instead != null) {
          throw new IllegalArgumentException("brokerProperty " + property.getKey() + " is set by LocalKafkaBroker itself;"
              + " use " + instead);
        }
      }
      if (detached && dataDir == null) {
        throw new IllegalArgumentException("detached(true) needs dataDir(...): a detached broker is found again through its data directory");
      }
      Path java = javaHome != null ? javaHome : Path.of(System.getProperty("java.home"));
      if (!Files.isExecutable(java.resolve("bin").resolve("java"))) {
        throw new IllegalArgumentException("javaHome " + java + " has no executable bin/java; point javaHome at a Java 21+ installation");
      }
      Path lib = brokerLibDir != null ? BrokerLibrary.requireBrokerJars(brokerLibDir, "brokerLibDir") : BrokerLibrary.locate();
      return new LocalKafkaBroker(this, lib, java);
    }

    private static void checkPort(String setting, int value) {
      if (value < 0 || value > 65_535) {
        throw new IllegalArgumentException(setting + " is " + value + "; use 1-65535, or 0 for a free port");
      }
    }

    private static void checkPositive(String setting, Duration value) {
      Objects.requireNonNull(value, setting);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(setting + " is " + value + "; it must be positive");
      }
    }
  }
}
