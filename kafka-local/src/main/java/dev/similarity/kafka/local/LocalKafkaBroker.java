package dev.similarity.kafka.local;

import dev.similarity.kafka.local.internal.BrokerFiles;
import dev.similarity.kafka.local.internal.BrokerState;
import dev.similarity.kafka.local.internal.KafkaClusterIds;
import dev.similarity.local.ChildJvm;
import dev.similarity.local.ChildProcess;
import dev.similarity.local.JarFolder;
import dev.similarity.local.LocalServer;
import dev.similarity.local.LocalServerBuilder;
import dev.similarity.local.LogFiles;
import dev.similarity.local.LoopbackPorts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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
public final class LocalKafkaBroker extends LocalServer {

  public static final long DEFAULT_TRANSACTION_MAX_TIMEOUT_MS = 900_000L;
  public static final String DEFAULT_HEAP = "512m";
  public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(90);
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  /** Logged by kafka.server.KafkaRaftServer once broker and controller are up. */
  static final String STARTED_LOG_LINE = "Kafka Server started";
  private static final String BROKER_MAIN = "kafka.Kafka";
  private static final String STORAGE_TOOL = "kafka.tools.StorageTool";
  private static final String TOPIC_COMMAND = "org.apache.kafka.tools.TopicCommand";
  private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);
  /** The broker's jars, which kafka-local's build copies to {@code kafka-local/target/broker-lib}. */
  static final JarFolder BROKER_LIB = new JarFolder("Kafka broker", "kafka-local", "broker-lib", "kafka.local.lib",
      "LocalKafkaBroker.Builder.brokerLibDir", List.of("kafka_2.13-", "kafka-tools-"), "kafka_2.13 and kafka-tools jars",
      LocalKafkaBroker.class);

  // Configuration (fixed).
  private final Path brokerLibDir;
  private final Path javaHome;
  private final String heap;
  private final int requestedPort;
  private final int requestedControllerPort;
  private final Map<String, String> extraBrokerProperties;
  private final long transactionMaxTimeoutMs;
  private final Duration startupTimeout;

  // Run state, guarded by this.
  private BrokerFiles files;
  private int port;
  private int controllerPort;
  /** Started here (holding the watchdog's stdin pipe) or attached. */
  private ChildProcess process;

  private LocalKafkaBroker(Builder builder, LocalServerBuilder.Shared shared, Path brokerLibDir) {
    super("LocalKafkaBroker", "Kafka broker", "kafka-local", builder.dataDir, shared);
    this.brokerLibDir = brokerLibDir;
    this.javaHome = shared.javaHome();
    this.heap = builder.heap;
    this.requestedPort = builder.port;
    this.requestedControllerPort = builder.controllerPort;
    this.extraBrokerProperties = Map.copyOf(builder.brokerProperties);
    this.transactionMaxTimeoutMs = builder.transactionMaxTimeoutMs;
    this.startupTimeout = shared.startupTimeout();
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
    // The broker's command line names this data directory's server.properties.
    Optional<ProcessHandle> handle = ChildProcess.findRunning(state.get().pid(), files.serverProperties().toString(),
        () -> LoopbackPorts.acceptsConnections(state.get().port()));
    if (handle.isEmpty()) return Optional.empty();

    Builder builder = builder().dataDir(files.dataDir()).transactionMaxTimeoutMs(state.get().transactionMaxTimeoutMs());
    LocalKafkaBroker broker = new LocalKafkaBroker(builder, builder.shared(), null);
    synchronized (broker) {
      broker.attachedTo(files.dataDir());
      broker.files = files;
      broker.port = state.get().port();
      broker.controllerPort = state.get().controllerPort();
      broker.process = ChildProcess.attached("broker", handle.get());
    }
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
  public LocalKafkaBroker start() {
    startServer();
    return this;
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
    return folder("data directory");
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
    ChildJvm.Result result = runTool(brokerFiles, TOPIC_COMMAND, command);
    if (result.exitCode() != 0) {
      throw new IllegalStateException("kafka-topics " + String.join(" ", args) + " against " + bootstrapServers()
          + " failed with exit code " + result.exitCode() + ":\n" + result.output().strip());
    }
    return result.output();
  }

  @Override
  public synchronized String toString() {
    if (process == null) return "LocalKafkaBroker[not started" + knownFolder().map(f -> ", " + f).orElse("") + "]";
    return "LocalKafkaBroker[" + LoopbackPorts.HOST + ":" + port + ", pid " + process.pid() + ", " + folderText() + "]";
  }

  @Override
  protected void useFolder(Path dataDir) {
    files = new BrokerFiles(dataDir);
  }

  @Override
  protected Optional<LocalKafkaBroker> runningFrom(Path dataDir) {
    return attach(dataDir);
  }

  /** Ports, configuration, the storage format on first use, the broker JVM; returns once it serves. */
  @Override
  protected void launch() throws IOException {
    BrokerState.delete(files); // left behind by a broker that died
    Optional<BrokerFiles.Ports> previous = files.previousPorts();
    String otherChoice = "KAFKA_PORT for scripts/kafka-local";
    port = LoopbackPorts.choose("port", requestedPort, previous.map(BrokerFiles.Ports::client), Set.of(), otherChoice);
    controllerPort = LoopbackPorts.choose("controllerPort", requestedControllerPort, previous.map(BrokerFiles.Ports::controller),
        Set.of(port), otherChoice);

    files.writeLogConfigs();
    files.writeServerProperties(serverProperties());
    if (!Files.exists(files.metaProperties())) formatStorage();
    long logOffset = startBroker();
    process.awaitReady("the Kafka broker", "log '" + STARTED_LOG_LINE + "' and accept connections on " + LoopbackPorts.HOST + ":" + port,
        () -> startedSince(logOffset) && LoopbackPorts.acceptsConnections(port), startupTimeout, files.logFile());
  }

  @Override
  protected List<ChildProcess> processes() {
    return process == null ? List.of() : List.of(process);
  }

  @Override
  protected void forgetState() throws IOException {
    BrokerState.delete(files);
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
    ChildJvm.Result result = runTool(files, STORAGE_TOOL,
        List.of("format", "-t", clusterId, "-c", files.serverProperties().toString(), "--standalone"));
    appendToLog(result.output().strip());
    if (result.exitCode() != 0 || !Files.exists(files.metaProperties())) {
      throw new IllegalStateException("formatting the broker storage in " + files.logDirs() + " failed (exit code "
          + result.exitCode() + "); storage tool output:\n" + result.output().strip());
    }
  }

  /** Starts the broker JVM; returns the log size before it, where start-up output begins. */
  private long startBroker() throws IOException {
    long logOffset = LogFiles.size(files.logFile());
    List<String> command = childJvm().serverCommand(
        List.of("-Xmx" + heap, "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
            "-Dlog4j2.configurationFile=" + files.brokerLogConfig()),
        BROKER_MAIN, List.of(files.serverProperties().toString()), detached());
    appendToLog("starting broker on " + LoopbackPorts.HOST + ":" + port + " (controller " + controllerPort + "): "
        + String.join(" ", command));
    process = ChildJvm.start("broker", command, folder("data directory"), files.logFile(), detached(), Map.of());
    new BrokerState(process.pid(), port, controllerPort, transactionMaxTimeoutMs).write(files);
    return logOffset;
  }

  private boolean startedSince(long logOffset) {
    try {
      return LogFiles.containsAfter(files.logFile(), logOffset, STARTED_LOG_LINE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + files.logFile(), e);
    }
  }

  private void appendToLog(String line) throws IOException {
    LogFiles.append(files.logFile(), tag(), line);
  }

  /** Runs a Kafka tool (storage format, kafka-topics) to completion in its own JVM. */
  private ChildJvm.Result runTool(BrokerFiles brokerFiles, String mainClass, List<String> args) {
    return childJvm().runToCompletion(List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
        "-Dlog4j2.configurationFile=" + brokerFiles.toolsLogConfig()), mainClass, args, TOOL_TIMEOUT);
  }

  private ChildJvm childJvm() {
    return new ChildJvm(javaHome, brokerLibDir != null ? brokerLibDir : BROKER_LIB.locate());
  }

  private synchronized void requireStarted() {
    if (process == null) throw new IllegalStateException("the broker is not started; call start() first");
  }

  /** Settings of a {@link LocalKafkaBroker}; {@link #build()} checks them all. */
  public static final class Builder extends LocalServerBuilder<Builder> {

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
    private String heap = DEFAULT_HEAP;
    private final Map<String, String> brokerProperties = new LinkedHashMap<>();
    private long transactionMaxTimeoutMs = DEFAULT_TRANSACTION_MAX_TIMEOUT_MS;

    private Builder() {
      super(DEFAULT_STARTUP_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT);
    }

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

    /** @throws IllegalArgumentException or IllegalStateException naming the setting to fix */
    public LocalKafkaBroker build() {
      checkPort("port", port);
      checkPort("controllerPort", controllerPort);
      if (port != 0 && port == controllerPort) {
        throw new IllegalArgumentException("port and controllerPort are both " + port
            + "; the client and controller listeners need different ports (or 0 for free ones)");
      }
      checkJvmSize("heap", heap, "512m or 1g");
      if (transactionMaxTimeoutMs <= 0) {
        throw new IllegalArgumentException("transactionMaxTimeoutMs is " + transactionMaxTimeoutMs + "; it must be positive");
      }
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
      LocalServerBuilder.Shared shared = checkShared("dataDir", dataDir);
      Path lib = brokerLibDir != null ? BROKER_LIB.require(brokerLibDir, "brokerLibDir") : BROKER_LIB.locate();
      return new LocalKafkaBroker(this, shared, lib);
    }
  }
}
