package dev.similarity.flink.local;

import dev.similarity.flink.local.internal.ClusterFiles;
import dev.similarity.flink.local.internal.ClusterState;
import dev.similarity.flink.local.internal.FlinkMemory;
import dev.similarity.flink.local.internal.FlinkMemory.Role;
import dev.similarity.local.ChildJvm;
import dev.similarity.local.ChildProcess;
import dev.similarity.local.JarFolder;
import dev.similarity.local.LocalFiles;
import dev.similarity.local.LocalServer;
import dev.similarity.local.LocalServerBuilder;
import dev.similarity.local.LogFiles;
import dev.similarity.local.LoopbackPorts;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real standalone Flink session cluster: one JobManager ({@code StandaloneSessionClusterEntrypoint},
 * with the web UI and REST API on 127.0.0.1) and N TaskManagers ({@code TaskManagerRunner}), each a
 * child JVM on the jars in {@code flink-local/target/cluster-lib}, configured by a generated
 * {@code config.yaml} (RocksDB, checkpoints under the work directory, a Prometheus reporter per
 * process). Nothing of the cluster meets the caller's class path: jobs arrive as jars through the
 * REST API ({@link FlinkRestClient}), as on any other Flink cluster.
 *
 * <pre>{@code
 * try (LocalFlinkCluster flink = LocalFlinkCluster.builder().taskManagers(2).build().start()) {
 *   FlinkRestClient rest = flink.restClient();
 *   String jobId = rest.run(rest.uploadJar(jobJar), null, List.of(), 4, null);
 *   flink.killTaskManager(0);      // SIGKILL, as a crashed machine
 *   flink.startTaskManager();      // a replacement; the job restarts from its last checkpoint
 * }
 * }</pre>
 *
 * <p>Flink's S3 file system ({@code flink-s3-fs-presto}) is installed as a plugin by default, so jobs
 * can write {@code s3://} paths once the {@code s3.*} keys are configured ({@link Builder#config}, e.g.
 * with an S3-compatible server's endpoint and credentials).
 *
 * <p>Without high availability a JobManager that dies takes its jobs with it: {@link #restartJobManager()}
 * brings back an empty JobManager that the running TaskManagers re-register with; resume jobs from their
 * retained checkpoints. Unless {@linkplain Builder#detached detached}, the cluster stops when this JVM
 * exits (shutdown hook) or dies (each child watches its stdin pipe).
 */
public final class LocalFlinkCluster extends LocalServer {

  public static final int DEFAULT_TASK_MANAGERS = 2;
  public static final int DEFAULT_SLOTS_PER_TASK_MANAGER = 2;
  /** JobManager process: about 470 MB of heap, enough to run a job jar's main() and hold the web UI. */
  public static final String DEFAULT_JOB_MANAGER_MEMORY = "1024m";
  /**
   * TaskManager process: about 600 MB task heap, 380 MB managed (RocksDB), 150 MB network buffers and
   * 128 MB task off-heap (DJL's native tensors) with two slots; four such TaskManagers and the JobManager
   * take 9 GiB of a 24 GiB machine.
   */
  public static final String DEFAULT_TASK_MANAGER_MEMORY = "2048m";
  /** Smallest sizes Flink's memory model accepts with our metaspace, off-heap and overhead settings. */
  public static final int MIN_TASK_MANAGER_MEMORY_MB = 1280;
  public static final int MIN_JOB_MANAGER_MEMORY_MB = 768;
  /**
   * {@code rest.server.max-content-length} and {@code rest.client.max-content-length}, raised from
   * Flink's 100 MiB. Measured on Flink 2.2.0: the limit does not gate jar uploads (multipart bodies
   * are streamed to disk; a 5 MB jar went through under a 1 MiB limit, and LocalFlinkClusterITCase
   * uploads 157 MB), only aggregated requests such as {@code /jars/:id/run}'s JSON (2 MB of arguments
   * got HTTP 413 under that 1 MiB limit) and the client's responses.
   */
  public static final long MAX_CONTENT_LENGTH_BYTES = 512L * 1024 * 1024;
  /** How many ports after the first Prometheus port the processes may take. */
  public static final int PROMETHEUS_PORT_SPAN = 20;
  public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofMinutes(2);
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  static final String JOB_MANAGER_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
  static final String TASK_MANAGER_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
  private static final String JVM_OPTIONS_RESOURCE = "jvm-options.properties";
  private static final int LOG_TAIL_LINES = 40;
  /**
   * The cluster's jars, which flink-local's build copies to {@code flink-local/target/cluster-lib}: flink-runtime,
   * the web UI, the RPC system, RocksDB, the Prometheus reporter, log4j, the embedding runtime. A job's
   * connectors and libraries belong in its jar, not here.
   */
  static final JarFolder CLUSTER_LIB = new JarFolder("Flink cluster", "flink-local", "cluster-lib", "flink.local.lib",
      "LocalFlinkCluster.Builder.clusterLibDir",
      List.of("flink-runtime-2", "flink-runtime-web-", "flink-rpc-akka-loader-", "flink-clients-"),
      "flink-runtime, flink-runtime-web, flink-rpc-akka-loader and flink-clients jars", LocalFlinkCluster.class);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(250);

  /** One cluster JVM, as callers see it. @param logFile Flink's log; the JVM's stdout is next to it as {@code .out} */
  public record ClusterProcess(String name, long pid, int prometheusPort, Path logFile) {

    /** The process's Prometheus endpoint, {@code http://127.0.0.1:PORT/metrics}. */
    public String prometheusUrl() {
      return "http://" + LoopbackPorts.HOST + ":" + prometheusPort + "/metrics";
    }
  }

  // Configuration (fixed).
  private final Path clusterLibDir;
  private final Path javaHome;
  private final int requestedRestPort;
  private final int initialTaskManagers;
  private final int slotsPerTaskManager;
  private final String jobManagerMemory;
  private final String taskManagerMemory;
  private final Map<String, String> extraConfig;
  private final Path requestedPluginsDir;
  /** Null: install the S3 plugin if the build provides it; true: it must; false: never. */
  private final Boolean s3FileSystem;
  private final int requestedPrometheusPort;
  private final List<String> extraJvmOptions;
  private final Duration startupTimeout;

  // Run state, guarded by this.
  private ClusterFiles files;
  private Path pluginsDir;
  private int prometheusFirstPort;
  private int restPort;
  private int rpcPort;
  private Child jobManager;
  private final List<Child> taskManagers = new ArrayList<>();
  private int nextTaskManagerIndex;
  private FlinkMemory.Parameters jobManagerMemoryParameters;
  private FlinkMemory.Parameters taskManagerMemoryParameters;

  /** A running cluster JVM, started here or attached. */
  private record Child(ChildProcess process, int prometheusPort) {
    String name() {
      return process.name();
    }

    boolean isAlive() {
      return process.isAlive();
    }

    ClusterState.Member member() {
      return new ClusterState.Member(name(), process.pid(), prometheusPort);
    }
  }

  private LocalFlinkCluster(Builder builder, LocalServerBuilder.Shared shared, Path clusterLibDir) {
    super("LocalFlinkCluster", "Flink cluster", "flink-local", builder.workDir, shared);
    this.clusterLibDir = clusterLibDir;
    this.javaHome = shared.javaHome();
    this.requestedRestPort = builder.restPort;
    this.initialTaskManagers = builder.taskManagers;
    this.slotsPerTaskManager = builder.slotsPerTaskManager;
    this.jobManagerMemory = builder.jobManagerMemory;
    this.taskManagerMemory = builder.taskManagerMemory;
    this.extraConfig = Map.copyOf(builder.config);
    this.requestedPluginsDir = builder.pluginsDir == null ? null : builder.pluginsDir.toAbsolutePath().normalize();
    this.s3FileSystem = builder.s3FileSystem;
    this.requestedPrometheusPort = builder.prometheusPort;
    this.extraJvmOptions = List.copyOf(builder.jvmOptions);
    this.startupTimeout = shared.startupTimeout();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A handle on the cluster that an earlier {@link #start()} (in this or another process, e.g. the
   * {@code scripts/flink-local} CLI) left running from {@code workDir}. Empty when none of its processes
   * runs. Closing the handle stops the cluster; TaskManagers it starts are detached like the cluster.
   */
  public static Optional<LocalFlinkCluster> attach(Path workDir) {
    ClusterFiles files = new ClusterFiles(workDir.toAbsolutePath().normalize());
    Optional<ClusterState> state = ClusterState.read(files);
    if (state.isEmpty()) return Optional.empty();
    List<Child> alive = new ArrayList<>();
    for (ClusterState.Member member : state.get().members()) {
      ProcessHandle.of(member.pid()).filter(ProcessHandle::isAlive).filter(h -> runsFrom(h, files, state.get().restPort()))
          .ifPresent(h -> alive.add(new Child(ChildProcess.attached(member.name(), h), member.prometheusPort())));
    }
    if (alive.isEmpty()) return Optional.empty();

    Builder builder = builder().workDir(files.workDir()).detached(true)
        .slotsPerTaskManager(configValue(files, "taskmanager.numberOfTaskSlots").map(Integer::parseInt).orElse(DEFAULT_SLOTS_PER_TASK_MANAGER));
    LocalFlinkCluster cluster = new LocalFlinkCluster(builder, builder.shared(), null);
    synchronized (cluster) {
      cluster.attachedTo(files.workDir());
      cluster.files = files;
      cluster.pluginsDir = state.get().pluginsDir();
      cluster.prometheusFirstPort = state.get().prometheusFirstPort();
      cluster.restPort = state.get().restPort();
      cluster.rpcPort = state.get().rpcPort();
      cluster.nextTaskManagerIndex = state.get().nextTaskManagerIndex();
      for (Child child : alive) {
        if (child.name().equals(ClusterFiles.JOB_MANAGER)) cluster.jobManager = child;
        else cluster.taskManagers.add(child);
      }
    }
    return Optional.of(cluster);
  }

  /**
   * Writes the configuration, launches the JobManager and the TaskManagers and waits until the REST
   * API answers and lists every TaskManager as registered.
   *
   * @return this, for {@code try (var flink = builder.build().start())}
   * @throws IllegalStateException if it cannot start, with the last lines of the failing process's log;
   *     nothing is left running and a temporary work directory is deleted
   */
  public LocalFlinkCluster start() {
    startServer();
    return this;
  }

  /** {@code http://127.0.0.1:PORT}: the REST API and the web UI. */
  public synchronized String restUrl() {
    requireStarted();
    return "http://" + LoopbackPorts.HOST + ":" + restPort;
  }

  public synchronized int restPort() {
    requireStarted();
    return restPort;
  }

  /** A REST client of this cluster. */
  public FlinkRestClient restClient() {
    return new FlinkRestClient(restUrl());
  }

  public synchronized Path workDir() {
    return folder("work directory");
  }

  public synchronized Path configFile() {
    return new ClusterFiles(workDir()).configYaml();
  }

  public synchronized Path logDir() {
    return new ClusterFiles(workDir()).logDir();
  }

  /** {@code execution.checkpointing.dir}, unless the configuration named another. */
  public synchronized Path checkpointDir() {
    return new ClusterFiles(workDir()).checkpointDir();
  }

  /** {@code execution.checkpointing.savepoint-dir}, unless the configuration named another. */
  public synchronized Path savepointDir() {
    return new ClusterFiles(workDir()).savepointDir();
  }

  public synchronized int slotsPerTaskManager() {
    return slotsPerTaskManager;
  }

  /** The JobManager, unless it was killed and not restarted. */
  public synchronized Optional<ClusterProcess> jobManager() {
    requireStarted();
    return Optional.ofNullable(jobManager).filter(Child::isAlive).map(this::describe);
  }

  /** The TaskManagers this handle started or attached to that still run, in start order. */
  public synchronized List<ClusterProcess> taskManagers() {
    requireStarted();
    return taskManagers.stream().filter(Child::isAlive).map(this::describe).toList();
  }

  /** Whether any process of the cluster runs. */
  public synchronized boolean isRunning() {
    return (jobManager != null && jobManager.isAlive()) || taskManagers.stream().anyMatch(Child::isAlive);
  }

  /**
   * Kills TaskManager {@code taskmanager-INDEX} with SIGKILL, as a crashed machine: no clean-up, no
   * goodbye to the JobManager. Its jobs fail over to the slots that remain.
   *
   * @throws IllegalArgumentException if no such TaskManager runs
   */
  public synchronized void killTaskManager(int index) {
    requireStarted();
    String name = ClusterFiles.taskManagerName(index);
    Child child = taskManagers.stream().filter(c -> c.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException(name + " is not running here; running: "
            + taskManagers.stream().map(Child::name).toList()));
    kill(child);
    taskManagers.remove(child);
    writeStateUnchecked();
  }

  /**
   * Starts one more TaskManager and waits until the JobManager lists it as registered.
   *
   * @return its index: it is {@code taskmanager-INDEX} (indices are never reused)
   * @throws IllegalStateException if it exits or does not register within the startup timeout
   */
  public synchronized int startTaskManager() {
    requireStarted();
    if (isClosed()) throw new IllegalStateException("this LocalFlinkCluster was closed");
    int index = nextTaskManagerIndex++;
    String name = ClusterFiles.taskManagerName(index);
    try {
      if (taskManagerMemoryParameters == null) taskManagerMemoryParameters = memoryParameters(clusterJvm(), Role.TASK_MANAGER);
      Child child = launch(Role.TASK_MANAGER, name, choosePrometheusPort());
      taskManagers.add(child);
      writeState();
      awaitRegistered(List.of(name), "start of " + name);
      return index;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + " in " + folderText() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Kills the JobManager with SIGKILL. Without high availability its jobs are gone with it; the
   * TaskManagers keep running and wait for a JobManager at the same address.
   *
   * @throws IllegalStateException if no JobManager runs
   */
  public synchronized void killJobManager() {
    requireStarted();
    if (jobManager == null || !jobManager.isAlive()) throw new IllegalStateException("no JobManager runs in " + folderText());
    kill(jobManager);
    jobManager = null;
    writeStateUnchecked();
  }

  /**
   * Starts a JobManager again at the same REST and RPC ports (killing the running one first, as a
   * crash would), and waits until every running TaskManager has registered with it. TaskManagers
   * notice the old one's death only when its heartbeats stop: up to {@code heartbeat.timeout}.
   */
  public synchronized void restartJobManager() {
    requireStarted();
    if (isClosed()) throw new IllegalStateException("this LocalFlinkCluster was closed");
    if (jobManager != null && jobManager.isAlive()) killJobManager();
    try {
      if (!LoopbackPorts.isFree(restPort)) {
        throw new IllegalStateException("cannot restart the JobManager: REST port " + restPort + " on " + LoopbackPorts.HOST
            + " is taken by another process");
      }
      if (jobManagerMemoryParameters == null) jobManagerMemoryParameters = memoryParameters(clusterJvm(), Role.JOB_MANAGER);
      jobManager = launch(Role.JOB_MANAGER, ClusterFiles.JOB_MANAGER, choosePrometheusPort());
      writeState();
      awaitRegistered(taskManagers.stream().filter(Child::isAlive).map(Child::name).toList(), "restart of the JobManager");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot restart the JobManager in " + folderText() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public synchronized String toString() {
    if (files == null) return "LocalFlinkCluster[not started" + knownFolder().map(f -> ", " + f).orElse("") + "]";
    return "LocalFlinkCluster[" + "http://" + LoopbackPorts.HOST + ":" + restPort
        + ", jobmanager " + (jobManager == null ? "-" : "pid " + jobManager.process().pid())
        + ", taskmanagers " + taskManagers.stream().map(c -> c.process().toString()).toList()
        + ", " + folderText() + "]";
  }

  @Override
  protected void useFolder(Path workDir) {
    files = new ClusterFiles(workDir);
  }

  @Override
  protected Optional<LocalFlinkCluster> runningFrom(Path workDir) {
    return attach(workDir);
  }

  /** Configuration, ports, the JobManager and the TaskManagers; returns once every TaskManager has registered. */
  @Override
  protected void launch() throws IOException {
    ClusterState.delete(files); // left behind by a cluster that died
    LocalFiles.deleteRecursively(files.tmpDir());
    for (Path dir : List.of(files.logDir(), files.checkpointDir(), files.savepointDir(), files.webUploadDir(), files.tmpDir())) {
      Files.createDirectories(dir);
    }
    prometheusFirstPort = requestedPrometheusPort;
    pluginsDir = requestedPluginsDir != null ? requestedPluginsDir : Files.createDirectories(files.defaultPluginsDir());
    if (requestedPluginsDir == null) installS3Plugin();

    String otherChoice = "FLINK_REST_PORT for scripts/flink-local";
    restPort = LoopbackPorts.choose("restPort", requestedRestPort, configValue(files, "rest.port").map(Integer::parseInt), Set.of(),
        otherChoice);
    rpcPort = LoopbackPorts.choose("rpcPort", 0, configValue(files, "jobmanager.rpc.port").map(Integer::parseInt), Set.of(restPort),
        otherChoice);
    files.writeLogConfigs();
    files.writeConfigYaml(configEntries(files, restPort, rpcPort));
    appendToLog("starting a cluster: REST and web UI on " + restUrl() + ", JobManager RPC on port " + rpcPort + ", "
        + initialTaskManagers + " TaskManagers with " + slotsPerTaskManager + " slots, config " + files.configYaml());

    computeMemoryParameters();
    jobManager = launch(Role.JOB_MANAGER, ClusterFiles.JOB_MANAGER, choosePrometheusPort());
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < initialTaskManagers; i++) {
      String name = ClusterFiles.taskManagerName(nextTaskManagerIndex++);
      taskManagers.add(launch(Role.TASK_MANAGER, name, choosePrometheusPort()));
      expected.add(name);
    }
    writeState();
    awaitRegistered(expected, "start");
    appendToLog("cluster up: " + this);
  }

  @Override
  protected List<ChildProcess> processes() {
    List<ChildProcess> all = new ArrayList<>(taskManagers.stream().map(Child::process).toList());
    if (jobManager != null) all.add(jobManager.process());
    return all;
  }

  @Override
  protected void forgetState() throws IOException {
    ClusterState.delete(files);
    appendToLog("cluster stopped");
  }


  /**
   * Puts Flink's S3 file system into the default plugins directory ({@code plugins/s3-fs-presto/}, a
   * hard link to the build's copy where the file system allows one), or takes it out when turned off.
   */
  private void installS3Plugin() throws IOException {
    Path installed = pluginsDir.resolve(ClusterFiles.S3_PLUGIN);
    if (Boolean.FALSE.equals(s3FileSystem)) {
      LocalFiles.deleteRecursively(installed);
      return;
    }
    Optional<Path> jar = clusterLibDir == null ? Optional.empty() : ClusterFiles.s3Plugin(clusterLibDir);
    if (jar.isEmpty()) {
      if (Boolean.TRUE.equals(s3FileSystem)) {
        throw new IllegalStateException("no flink-s3-fs-presto jar next to the cluster lib " + clusterLibDir
            + " (plugins/" + ClusterFiles.S3_PLUGIN + "/); build it with 'mvn -pl flink-local install -DskipTests'");
      }
      appendToLog("no S3 file system plugin next to " + clusterLibDir + ": s3:// paths will not work on this cluster");
      return;
    }
    Path target = installed.resolve(jar.get().getFileName());
    if (Files.exists(target) && Files.size(target) == Files.size(jar.get())) return;
    LocalFiles.deleteRecursively(installed);
    Files.createDirectories(installed);
    try {
      Files.createLink(target, jar.get());
    } catch (IOException | UnsupportedOperationException e) {
      Files.copy(jar.get(), target);
    }
  }

  /** The generated config.yaml, key by key: derived settings, then the builder's extra entries. */
  Map<String, String> configEntries(ClusterFiles files, int restPort, int rpcPort) {
    Map<String, String> config = new LinkedHashMap<>();
    config.put("jobmanager.rpc.address", LoopbackPorts.HOST);
    config.put("jobmanager.rpc.port", Integer.toString(rpcPort));
    config.put("jobmanager.bind-host", LoopbackPorts.HOST);
    config.put("jobmanager.memory.process.size", jobManagerMemory);
    config.put("jobmanager.execution.failover-strategy", "region");
    config.put("taskmanager.host", LoopbackPorts.HOST);
    config.put("taskmanager.bind-host", LoopbackPorts.HOST);
    config.put("taskmanager.numberOfTaskSlots", Integer.toString(slotsPerTaskManager));
    config.put("taskmanager.memory.process.size", taskManagerMemory);
    config.put("taskmanager.memory.managed.fraction", "0.25");
    config.put("taskmanager.memory.task.off-heap.size", "128m");
    config.put("taskmanager.memory.jvm-metaspace.size", "320m");
    // A job's subtasks spread over all TaskManagers, so one TaskManager's death hits every job a little.
    config.put("taskmanager.load-balance.mode", "SLOTS");
    config.put("rest.address", LoopbackPorts.HOST);
    config.put("rest.bind-address", LoopbackPorts.HOST);
    config.put("rest.port", Integer.toString(restPort));
    config.put("rest.server.max-content-length", Long.toString(MAX_CONTENT_LENGTH_BYTES));
    config.put("rest.client.max-content-length", Long.toString(MAX_CONTENT_LENGTH_BYTES));
    config.put("web.upload.dir", files.webUploadDir().toString());
    config.put("io.tmp.dirs", files.tmpDir().toString());
    config.put("state.backend.type", "rocksdb");
    // The embedding runtime lives in the cluster's class path (see the pom): always load it from there.
    config.put("classloader.parent-first-patterns.additional", "ai.djl.;org.tensorflow.;org.bytedeco.;com.google.protobuf.;com.sun.jna.");
    config.put("execution.checkpointing.dir", files.checkpointDir().toUri().toString());
    config.put("execution.checkpointing.savepoint-dir", files.savepointDir().toUri().toString());
    // As Flink 1.x did for checkpointed jobs: restart without limit; a job that cannot start shows RESTARTING in the UI.
    config.put("restart-strategy.type", "fixed-delay");
    config.put("restart-strategy.fixed-delay.attempts", Integer.toString(Integer.MAX_VALUE));
    config.put("restart-strategy.fixed-delay.delay", "2 s");
    // A dead process is noticed after two failed heartbeat RPCs (10 s), a hung one after 30 s.
    config.put("heartbeat.interval", "5000");
    config.put("heartbeat.timeout", "30000");
    config.put("metrics.reporter.prom.factory.class", "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
    config.put("metrics.reporter.prom.port",
        requestedPrometheusPort == 0 ? "0" : requestedPrometheusPort + "-" + (requestedPrometheusPort + PROMETHEUS_PORT_SPAN));
    // Flink's scripts pass this to every JVM; LocalFlinkCluster does the same. Recorded so the web UI shows it.
    config.put("env.java.opts.all", String.join(" ", jvmOptions()));
    config.putAll(extraConfig);
    return config;
  }

  private ClusterProcess describe(Child child) {
    return new ClusterProcess(child.name(), child.process().pid(), child.prometheusPort(), files.logFile(child.name()));
  }

  private int choosePrometheusPort() {
    Set<Integer> taken = new HashSet<>(Set.of(restPort, rpcPort));
    if (jobManager != null) taken.add(jobManager.prometheusPort());
    taskManagers.forEach(c -> taken.add(c.prometheusPort()));
    if (prometheusFirstPort == 0) return LoopbackPorts.pickFreeOtherThan(taken);
    for (int port = prometheusFirstPort; port <= prometheusFirstPort + PROMETHEUS_PORT_SPAN; port++) {
      if (!taken.contains(port) && LoopbackPorts.isFree(port)) return port;
    }
    throw new IllegalStateException("no free Prometheus port in " + prometheusFirstPort + "-" + (prometheusFirstPort + PROMETHEUS_PORT_SPAN)
        + " for one more cluster process; choose another first port (prometheusPort, or 0 for free ports)");
  }

  /** A value of the config.yaml that the last start wrote; empty before the first start. */
  private static Optional<String> configValue(ClusterFiles files, String key) {
    try (Stream<String> lines = Files.lines(files.configYaml(), StandardCharsets.UTF_8)) {
      Pattern entry = Pattern.compile("^" + Pattern.quote(key) + ": '([^']*)'$");
      return lines.map(entry::matcher).filter(Matcher::matches).map(m -> m.group(1)).findFirst();
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }

  private void computeMemoryParameters() {
    ChildJvm jvm = clusterJvm();
    // Two JVM start-ups of Flink's calculator, side by side.
    CompletableFuture<FlinkMemory.Parameters> taskManager = CompletableFuture.supplyAsync(() -> memoryParameters(jvm, Role.TASK_MANAGER));
    jobManagerMemoryParameters = memoryParameters(jvm, Role.JOB_MANAGER);
    try {
      taskManagerMemoryParameters = taskManager.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : e;
    }
  }

  private FlinkMemory.Parameters memoryParameters(ChildJvm jvm, Role role) {
    return FlinkMemory.compute(jvm, role, files.confDir(), files.toolsLogConfig());
  }

  private Child launch(Role role, String name, int prometheusPort) throws IOException {
    FlinkMemory.Parameters memory = role == Role.JOB_MANAGER ? jobManagerMemoryParameters : taskManagerMemoryParameters;
    List<String> jvmOptions = new ArrayList<>(memory.jvmOptions());
    jvmOptions.addAll(jvmOptions());
    jvmOptions.addAll(List.of("-Djava.awt.headless=true", "-Djava.io.tmpdir=" + files.tmpDir(),
        "-Dlog.file=" + files.logFile(name), "-Dlog4j.configurationFile=file:" + files.logConfig()));
    List<String> args = new ArrayList<>(List.of("--configDir", files.confDir().toString()));
    args.addAll(memory.dynamicProperties());
    args.addAll(List.of("-D", "metrics.reporter.prom.port=" + prometheusPort));
    if (role == Role.TASK_MANAGER) args.addAll(List.of("-D", "taskmanager.resource-id=" + name));
    List<String> command = clusterJvm().serverCommand(jvmOptions, role == Role.JOB_MANAGER ? JOB_MANAGER_MAIN : TASK_MANAGER_MAIN, args,
        detached());
    appendToLog("starting " + name + " (Prometheus on port " + prometheusPort + "): " + String.join(" ", command));
    ChildProcess process = ChildJvm.start(name, command, folder("work directory"), files.outFile(name), detached(), Map.of(
        "FLINK_CONF_DIR", files.confDir().toString(),
        "FLINK_LOG_DIR", files.logDir().toString(),
        "FLINK_PLUGINS_DIR", pluginsDir.toString()));
    return new Child(process, prometheusPort);
  }

  /**
   * Waits until the REST API lists every one of {@code names} as a registered TaskManager and the
   * slots of all running TaskManagers are offered (a TaskManager reports its slots just after it registers).
   */
  private void awaitRegistered(List<String> names, String what) {
    FlinkRestClient rest = new FlinkRestClient("http://" + LoopbackPorts.HOST + ":" + restPort);
    long deadline = System.nanoTime() + startupTimeout.toNanos();
    String lastProblem = "no answer yet";
    while (true) {
      List<Child> watched = new ArrayList<>();
      if (jobManager != null) watched.add(jobManager);
      taskManagers.stream().filter(c -> names.contains(c.name())).forEach(watched::add);
      for (Child child : watched) {
        if (!child.isAlive()) {
          throw new IllegalStateException(child.name() + " exited" + child.process().exitCodeText() + " during the " + what
              + " of the Flink cluster in " + folderText() + ".\nLast lines of " + files.logFile(child.name()) + ":\n"
              + LogFiles.tail(files.logFile(child.name()), LOG_TAIL_LINES) + "\nLast lines of " + files.outFile(child.name()) + ":\n"
              + LogFiles.tail(files.outFile(child.name()), LOG_TAIL_LINES));
        }
      }
      try {
        List<String> registered = rest.taskManagerIds();
        long expectedSlots = (long) slotsPerTaskManager * taskManagers.stream().filter(Child::isAlive).count();
        if (registered.containsAll(names)) {
          int slots = rest.overview().slotsTotal();
          if (slots >= expectedSlots) return;
          lastProblem = "registered TaskManagers " + registered + " offer " + slots + " slots, waiting for " + expectedSlots;
        } else {
          lastProblem = "registered TaskManagers " + registered + ", waiting for " + names;
        }
      } catch (UncheckedIOException | FlinkRestException e) {
        lastProblem = "REST API not answering yet: " + e.getMessage();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the " + what + " of the Flink cluster in " + folderText() + " did not complete within "
            + startupTimeout + " (" + lastProblem + "); raise startupTimeout if the machine is busy. Last lines of "
            + files.logFile(ClusterFiles.JOB_MANAGER) + ":\n" + LogFiles.tail(files.logFile(ClusterFiles.JOB_MANAGER), LOG_TAIL_LINES));
      }
      sleep(POLL_INTERVAL);
    }
  }

  private void kill(Child child) {
    appendToLogUnchecked("killing " + child.process() + " with SIGKILL");
    child.process().kill();
  }

  private void writeState() throws IOException {
    // Only live processes: one killed from outside (kill -9 by a person) is forgotten at the next change.
    new ClusterState(restPort, rpcPort, prometheusFirstPort, pluginsDir,
        Optional.ofNullable(jobManager).filter(Child::isAlive).map(Child::member),
        taskManagers.stream().filter(Child::isAlive).map(Child::member).toList(), nextTaskManagerIndex).write(files);
  }

  private void writeStateUnchecked() {
    try {
      writeState();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot record the cluster's state in " + files.stateFile(), e);
    }
  }

  private List<String> jvmOptions() {
    List<String> options = new ArrayList<>(openFlags());
    options.addAll(extraJvmOptions);
    return options;
  }

  /** The root pom's {@code jvm.open.flags}, which the build copies into this module's resources. */
  static List<String> openFlags() {
    Properties properties = new Properties();
    try (InputStream in = LocalFlinkCluster.class.getResourceAsStream(JVM_OPTIONS_RESOURCE)) {
      if (in == null) throw new IllegalStateException(JVM_OPTIONS_RESOURCE + " is missing from flink-local's classes; rebuild flink-local");
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + JVM_OPTIONS_RESOURCE, e);
    }
    String flags = properties.getProperty("jvm.open.flags", "").strip();
    if (flags.isEmpty() || flags.contains("${")) {
      throw new IllegalStateException(JVM_OPTIONS_RESOURCE + " holds no filtered jvm.open.flags ('" + flags + "'); rebuild flink-local with Maven");
    }
    return Arrays.asList(flags.split("\\s+"));
  }

  private void appendToLog(String line) throws IOException {
    LogFiles.append(files.launcherLog(), tag(), line);
  }

  private void appendToLogUnchecked(String line) {
    try {
      appendToLog(line);
    } catch (IOException e) {
      System.err.println("[" + tag() + "] cannot write " + files.launcherLog() + ": " + e);
    }
  }

  private ChildJvm clusterJvm() {
    return new ChildJvm(javaHome, clusterLibDir != null ? clusterLibDir : CLUSTER_LIB.locate());
  }

  private synchronized void requireStarted() {
    if (files == null) throw new IllegalStateException("the cluster is not started; call start() first");
  }

  /** Guards against a recycled pid: the process must be a cluster JVM started with this work directory's configuration. */
  private static boolean runsFrom(ProcessHandle handle, ClusterFiles files, int restPort) {
    String confDir = files.confDir().toString();
    return handle.info().commandLine()
        .map(command -> command.contains(confDir) && (command.contains(JOB_MANAGER_MAIN) || command.contains(TASK_MANAGER_MAIN)))
        .orElseGet(() -> !LoopbackPorts.isFree(restPort));
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the Flink cluster", e);
    }
  }

  /** Settings of a {@link LocalFlinkCluster}; {@link #build()} checks them all. */
  public static final class Builder extends LocalServerBuilder<Builder> {

    private static final Pattern MEMORY_SIZE = Pattern.compile("([1-9][0-9]*)\\s*(m|mb|g|gb)", Pattern.CASE_INSENSITIVE);
    /** Share of this machine's memory that all cluster processes together may claim. */
    private static final double MAX_SHARE_OF_PHYSICAL_MEMORY = 0.75;

    /** Configuration keys that LocalFlinkCluster derives itself, with the setting to use instead. */
    private static final Map<String, String> MANAGED_KEYS = Map.ofEntries(
        Map.entry("jobmanager.rpc.address", "nothing: every process binds to 127.0.0.1"),
        Map.entry("jobmanager.rpc.port", "nothing: a free port is chosen and kept across restarts"),
        Map.entry("jobmanager.bind-host", "nothing: every process binds to 127.0.0.1"),
        Map.entry("taskmanager.host", "nothing: every process binds to 127.0.0.1"),
        Map.entry("taskmanager.bind-host", "nothing: every process binds to 127.0.0.1"),
        Map.entry("rest.address", "nothing: every process binds to 127.0.0.1"),
        Map.entry("rest.bind-address", "nothing: every process binds to 127.0.0.1"),
        Map.entry("rest.port", "restPort()"),
        Map.entry("taskmanager.numberOfTaskSlots", "slotsPerTaskManager()"),
        Map.entry("taskmanager.memory.process.size", "taskManagerMemory()"),
        Map.entry("jobmanager.memory.process.size", "jobManagerMemory()"),
        Map.entry("taskmanager.resource-id", "nothing: TaskManagers are named taskmanager-N"),
        Map.entry("metrics.reporter.prom.port", "prometheusPort()"),
        Map.entry("io.tmp.dirs", "workDir(): temporary files live in its tmp/"),
        Map.entry("web.upload.dir", "workDir(): uploaded jars live in its web-upload/"),
        Map.entry("env.java.opts.all", "jvmOption()"));

    private Path workDir;
    private int restPort;
    private int taskManagers = DEFAULT_TASK_MANAGERS;
    private int slotsPerTaskManager = DEFAULT_SLOTS_PER_TASK_MANAGER;
    private String jobManagerMemory = DEFAULT_JOB_MANAGER_MEMORY;
    private String taskManagerMemory = DEFAULT_TASK_MANAGER_MEMORY;
    private final Map<String, String> config = new LinkedHashMap<>();
    private Path pluginsDir;
    private Boolean s3FileSystem;
    private int prometheusPort;
    private final List<String> jvmOptions = new ArrayList<>();
    private Path clusterLibDir;

    private Builder() {
      super(DEFAULT_STARTUP_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT);
    }

    /**
     * Where the cluster keeps configuration, logs, pids, checkpoints, savepoints and uploaded jars.
     * Default: a temporary directory, deleted by close(). A directory used before keeps its
     * checkpoints, savepoints and uploaded jars.
     */
    public Builder workDir(Path workDir) {
      this.workDir = workDir;
      return this;
    }

    /** The REST API's and web UI's port on 127.0.0.1. Default 0: the previous start's port if free, else any free port. */
    public Builder restPort(int restPort) {
      this.restPort = restPort;
      return this;
    }

    /** How many TaskManagers start() launches (1-16); default 2. More can join later with startTaskManager(). */
    public Builder taskManagers(int taskManagers) {
      this.taskManagers = taskManagers;
      return this;
    }

    /** {@code taskmanager.numberOfTaskSlots} (1-16); default 2, one per core of this machine. */
    public Builder slotsPerTaskManager(int slots) {
      this.slotsPerTaskManager = slots;
      return this;
    }

    /** {@code jobmanager.memory.process.size}, e.g. {@code 1024m} (the default) or {@code 2g}; at least 768m. */
    public Builder jobManagerMemory(String size) {
      this.jobManagerMemory = size;
      return this;
    }

    /** {@code taskmanager.memory.process.size} of each TaskManager, e.g. {@code 2048m} (the default); at least 1280m. */
    public Builder taskManagerMemory(String size) {
      this.taskManagerMemory = size;
      return this;
    }

    /**
     * One more config.yaml entry, overriding a default (e.g. {@code heartbeat.timeout},
     * {@code restart-strategy.fixed-delay.delay}, {@code execution.checkpointing.dir} for {@code s3://...});
     * the keys derived from other settings are refused.
     */
    public Builder config(String key, String value) {
      config.put(key, value);
      return this;
    }

    public Builder config(Map<String, String> entries) {
      config.putAll(entries);
      return this;
    }

    /**
     * Flink's plugins directory ({@code FLINK_PLUGINS_DIR}): one sub-directory per plugin, e.g.
     * {@code s3-fs-presto/flink-s3-fs-presto-2.2.0.jar}. Default: an empty {@code plugins/} in the work directory.
     */
    public Builder pluginsDir(Path pluginsDir) {
      this.pluginsDir = pluginsDir;
      return this;
    }

    /**
     * Whether Flink's S3 file system ({@code flink-s3-fs-presto}) is installed as a plugin in the
     * default plugins directory. Default: yes when the build provides it (flink-local/target/plugins);
     * {@code true} makes start() fail without it. With {@link #pluginsDir} the given folder is used as
     * it is. Point it at a store with the {@code s3.*} keys, e.g. {@code config(s3Server.flinkSettings())}
     * ({@code s3.endpoint}, {@code s3.path.style.access}, {@code s3.access-key}, {@code s3.secret-key}).
     */
    public Builder s3FileSystem(boolean install) {
      this.s3FileSystem = install;
      return this;
    }

    /**
     * First port of the Prometheus reporters: the JobManager and each TaskManager take the next free
     * one of the {@value LocalFlinkCluster#PROMETHEUS_PORT_SPAN} after it. Default 0: any free ports.
     */
    public Builder prometheusPort(int firstPort) {
      this.prometheusPort = firstPort;
      return this;
    }

    /** One more JVM option for every cluster process, after the project's {@code jvm.open.flags}. */
    public Builder jvmOption(String option) {
      jvmOptions.add(option);
      return this;
    }

    /**
     * Directory of the cluster's jars. Default: system property {@code flink.local.lib}, else
     * {@code flink-local/target/cluster-lib} found next to this module's classes or above the working directory.
     */
    public Builder clusterLibDir(Path clusterLibDir) {
      this.clusterLibDir = clusterLibDir;
      return this;
    }

    /** @throws IllegalArgumentException naming the setting to fix */
    public LocalFlinkCluster build() {
      checkPort("restPort", restPort);
      checkPort("prometheusPort", prometheusPort);
      if (prometheusPort != 0 && prometheusPort + PROMETHEUS_PORT_SPAN > 65_535) {
        throw new IllegalArgumentException("prometheusPort " + prometheusPort + " leaves no room for " + PROMETHEUS_PORT_SPAN
            + " ports after it; choose a first port up to " + (65_535 - PROMETHEUS_PORT_SPAN));
      }
      checkRange("taskManagers", taskManagers, 1, 16);
      checkRange("slotsPerTaskManager", slotsPerTaskManager, 1, 16);
      long jobManagerMb = megabytes("jobManagerMemory", jobManagerMemory, MIN_JOB_MANAGER_MEMORY_MB);
      long taskManagerMb = megabytes("taskManagerMemory", taskManagerMemory, MIN_TASK_MANAGER_MEMORY_MB);
      long totalMb = jobManagerMb + taskManagers * taskManagerMb;
      long physicalMb = physicalMemoryMb();
      if (physicalMb > 0 && totalMb > physicalMb * MAX_SHARE_OF_PHYSICAL_MEMORY) {
        throw new IllegalArgumentException(String.format(Locale.ROOT,
            "%d TaskManagers of %s and a JobManager of %s claim %d MB, more than %.0f%% of this machine's %d MB;"
                + " start fewer TaskManagers or give each less (taskManagerMemory)",
            taskManagers, taskManagerMemory, jobManagerMemory, totalMb, MAX_SHARE_OF_PHYSICAL_MEMORY * 100, physicalMb));
      }
      for (Map.Entry<String, String> entry : config.entrySet()) {
        if (entry.getKey() == null || entry.getKey().isBlank() || entry.getValue() == null) {
          throw new IllegalArgumentException("config " + entry.getKey() + "=" + entry.getValue() + " needs a key and a value");
        }
        String instead = MANAGED_KEYS.get(entry.getKey().trim());
        if (instead != null) {
          throw new IllegalArgumentException("config " + entry.getKey() + " is set by LocalFlinkCluster itself; use " + instead);
        }
      }
      if (pluginsDir != null && s3FileSystem != null) {
        throw new IllegalArgumentException("s3FileSystem(...) installs the plugin into the default plugins directory;"
            + " with pluginsDir(" + pluginsDir + ") put s3-fs-presto/ there yourself, or leave pluginsDir out");
      }
      if (pluginsDir != null && !Files.isDirectory(pluginsDir)) {
        throw new IllegalArgumentException("pluginsDir " + pluginsDir.toAbsolutePath() + " is not a directory; it must hold one"
            + " sub-directory per plugin, e.g. s3-fs-presto/flink-s3-fs-presto-2.2.0.jar");
      }
      for (String option : jvmOptions) {
        if (option == null || option.isBlank() || !option.startsWith("-")) {
          throw new IllegalArgumentException("jvmOption '" + option + "' is not a JVM option (it must start with '-')");
        }
      }
      LocalServerBuilder.Shared shared = checkShared("workDir", workDir);
      openFlags(); // fails now, not in a child, if the build did not fill them in
      Path lib = clusterLibDir != null ? CLUSTER_LIB.require(clusterLibDir, "clusterLibDir") : CLUSTER_LIB.locate();
      return new LocalFlinkCluster(this, shared, lib);
    }

    private static long megabytes(String setting, String size, int minimumMb) {
      Matcher matcher = size == null ? null : MEMORY_SIZE.matcher(size.strip());
      if (matcher == null || !matcher.matches()) {
        throw new IllegalArgumentException(setting + " is '" + size + "'; give a size in megabytes or gigabytes such as 2048m or 2g");
      }
      long value = Long.parseLong(matcher.group(1));
      long mb = matcher.group(2).toLowerCase(Locale.ROOT).startsWith("g") ? value * 1024 : value;
      if (mb < minimumMb) {
        throw new IllegalArgumentException(setting + " is " + size + "; Flink's memory model needs at least " + minimumMb
            + "m with this cluster's metaspace, off-heap and overhead settings");
      }
      return mb;
    }

    private static long physicalMemoryMb() {
      if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
        return os.getTotalMemorySize() / (1024 * 1024);
      }
      return -1;
    }

    private static void checkRange(String setting, int value, int min, int max) {
      if (value < min || value > max) {
        throw new IllegalArgumentException(setting + " is " + value + "; use " + min + "-" + max);
      }
    }
  }
}
