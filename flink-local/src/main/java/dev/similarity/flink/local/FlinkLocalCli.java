package dev.similarity.flink.local;

import dev.similarity.local.CliCommands;
import dev.similarity.local.CommandLineTool;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Command line behind {@code scripts/flink-local}: a Flink session cluster for people, left running
 * in the background between commands and found again through its work directory.
 *
 * <pre>
 * FlinkLocalCli start  --work-dir DIR [--rest-port N] [--taskmanagers N] [--slots N] [--prometheus-port N]
 *                      [--s3-endpoint URL --s3-access-key KEY --s3-secret-key KEY]
 * FlinkLocalCli stop   --work-dir DIR
 * FlinkLocalCli status --work-dir DIR
 * FlinkLocalCli add-taskmanager --work-dir DIR
 * </pre>
 *
 * Exit codes ({@link CommandLineTool}): 0 done (also: start when already running, stop when not
 * running), 1 failed, 2 bad usage, 3 status found no running cluster.
 */
@Command(name = "FlinkLocalCli")
public final class FlinkLocalCli extends CliCommands {

  static final int OK = CommandLineTool.OK;
  static final int FAILED = CommandLineTool.FAILED;
  static final int USAGE = CommandLineTool.USAGE;
  static final int NOT_RUNNING = CommandLineTool.NOT_RUNNING;

  static final int DEFAULT_REST_PORT = 8081;
  static final int DEFAULT_PROMETHEUS_PORT = 9250;

  private static final String USAGE_TEXT = """
      usage: FlinkLocalCli start|stop|status|add-taskmanager --work-dir DIR [options]
        start            start a JobManager (web UI on 127.0.0.1:PORT) and TaskManagers in the background
                           --rest-port N        REST API and web UI port (default 8081)
                           --taskmanagers N     TaskManagers to start (default 2)
                           --slots N            slots per TaskManager (default 2)
                           --prometheus-port N  first Prometheus reporter port (default 9250)
                           --s3-endpoint URL    an S3-compatible server for s3:// paths (s3.endpoint, path-style
                                                access), e.g. http://127.0.0.1:9000 of scripts/s3-local
                           --s3-access-key KEY, --s3-secret-key KEY  its credentials (s3.access-key, s3.secret-key)
        stop             stop every process of the cluster
        status           say whether it runs, its web UI, processes, logs
        add-taskmanager  start one more TaskManager (e.g. after killing one)""";

  FlinkLocalCli(PrintStream out, PrintStream err) {
    super(out, err, USAGE_TEXT);
  }

  public static void main(String[] args) {
    System.exit(new FlinkLocalCli(System.out, System.err).run(args));
  }

  @Override
  protected CommandLineTool configure(CommandLineTool tool) {
    return tool
        .conversionHint("--rest-port", " (FLINK_REST_PORT for scripts/flink-local)")
        .conversionHint("--taskmanagers", " (e.g. --taskmanagers 2)")
        .conversionHint("--slots", " (e.g. --slots 2)")
        .conversionHint("--prometheus-port", " (e.g. --prometheus-port 9250)");
  }

  /** What the commands take; scripts/flink-local passes --work-dir to each, the ports to start. */
  static final class Options {
    @Option(names = "--work-dir", paramLabel = "DIR") Path workDir;
    @Option(names = "--rest-port", converter = CommandLineTool.WholeNumber.class) int restPort = DEFAULT_REST_PORT;
    @Option(names = "--taskmanagers", converter = CommandLineTool.WholeNumber.class) int taskManagers = LocalFlinkCluster.DEFAULT_TASK_MANAGERS;
    @Option(names = "--slots", converter = CommandLineTool.WholeNumber.class) int slots = LocalFlinkCluster.DEFAULT_SLOTS_PER_TASK_MANAGER;
    @Option(names = "--prometheus-port", converter = CommandLineTool.WholeNumber.class) int prometheusPort = DEFAULT_PROMETHEUS_PORT;
    @Option(names = "--s3-endpoint", paramLabel = "URL") String s3Endpoint;
    @Option(names = "--s3-access-key", paramLabel = "KEY") String s3AccessKey;
    @Option(names = "--s3-secret-key", paramLabel = "KEY") String s3SecretKey;

    /** The cluster's s3.* settings: empty unless --s3-* options were given, which only {@code start} takes. */
    Map<String, String> s3(String command) {
      if ((s3AccessKey == null) != (s3SecretKey == null)) {
        throw new CommandLineTool.UsageException("give both --s3-access-key and --s3-secret-key, or neither");
      }
      Map<String, String> s3 = new LinkedHashMap<>();
      if (s3Endpoint != null) {
        s3.put("s3.endpoint", s3Endpoint);
        s3.put("s3.path.style.access", "true");
      }
      if (s3AccessKey != null) {
        s3.put("s3.access-key", s3AccessKey);
        s3.put("s3.secret-key", s3SecretKey);
      }
      if (!s3.isEmpty() && !command.equals("start")) {
        throw new CommandLineTool.UsageException("--s3-* options configure a cluster being started; they do not apply to " + command);
      }
      return s3;
    }

    Path workDir() {
      return CommandLineTool.required(workDir, "--work-dir is missing: the directory holding the cluster's configuration, logs and checkpoints")
          .toAbsolutePath().normalize();
    }

    /** The work directory of a command that starts nothing; refuses --s3-* options. */
    Path workDirOf(String command) {
      s3(command);
      return workDir();
    }
  }

  @Command(name = "start")
  int start(@Mixin Options options) {
    Map<String, String> s3 = options.s3("start");
    Path workDir = options.workDir();
    Optional<LocalFlinkCluster> running = LocalFlinkCluster.attach(workDir);
    if (running.isPresent()) {
      LocalFlinkCluster cluster = running.get();
      out.println("Flink is already running: web UI " + cluster.restUrl());
      if (cluster.restPort() != options.restPort) out.println("  not on port " + options.restPort + ": stop it first to change the port");
      describe(cluster);
      return OK;
    }
    long startedAt = System.nanoTime();
    LocalFlinkCluster cluster = LocalFlinkCluster.builder().workDir(workDir).restPort(options.restPort).taskManagers(options.taskManagers)
        .slotsPerTaskManager(options.slots).prometheusPort(options.prometheusPort).config(s3).detached(true).build().start();
    out.println("Flink started in " + CommandLineTool.secondsSince(startedAt) + " s: web UI and REST API " + cluster.restUrl());
    describe(cluster);
    return OK;
  }

  @Command(name = "stop")
  int stop(@Mixin Options options) {
    Path workDir = options.workDirOf("stop");
    Optional<LocalFlinkCluster> running = LocalFlinkCluster.attach(workDir);
    if (running.isEmpty()) {
      out.println("Flink is not running (work dir " + workDir + ")");
      return OK;
    }
    LocalFlinkCluster cluster = running.get();
    String description = cluster.restUrl() + " (" + (cluster.taskManagers().size() + cluster.jobManager().stream().count()) + " processes)";
    long stoppingAt = System.nanoTime();
    cluster.close();
    out.println("Flink on " + description + " stopped in " + CommandLineTool.secondsSince(stoppingAt) + " s");
    return OK;
  }

  @Command(name = "status")
  int status(@Mixin Options options) {
    Path workDir = options.workDirOf("status");
    Optional<LocalFlinkCluster> running = LocalFlinkCluster.attach(workDir);
    if (running.isEmpty()) {
      out.println("not running");
      out.println("  work dir: " + workDir);
      return NOT_RUNNING;
    }
    LocalFlinkCluster cluster = running.get();
    out.println("running: web UI " + cluster.restUrl());
    try {
      FlinkRestClient.ClusterOverview overview = cluster.restClient().overview();
      out.printf(Locale.ROOT, "  registered: %d TaskManagers, %d of %d slots free, %d jobs running (Flink %s)%n",
          overview.taskManagers(), overview.slotsAvailable(), overview.slotsTotal(), overview.jobsRunning(), overview.flinkVersion());
    } catch (RuntimeException e) {
      out.println("  REST API not answering: " + e.getMessage());
    }
    describe(cluster);
    return OK;
  }

  @Command(name = "add-taskmanager")
  int addTaskManager(@Mixin Options options) {
    Path workDir = options.workDirOf("add-taskmanager");
    Optional<LocalFlinkCluster> running = LocalFlinkCluster.attach(workDir);
    if (running.isEmpty()) {
      err.println("Flink is not running (work dir " + workDir + "); start it with scripts/flink-local start");
      return FAILED;
    }
    long startedAt = System.nanoTime();
    int index = running.get().startTaskManager();
    out.println("taskmanager-" + index + " registered in " + CommandLineTool.secondsSince(startedAt) + " s");
    describe(running.get());
    return OK;
  }

  private void describe(LocalFlinkCluster cluster) {
    cluster.jobManager().ifPresentOrElse(
        jm -> out.println("  jobmanager:    pid " + jm.pid() + ", metrics " + jm.prometheusUrl()),
        () -> out.println("  jobmanager:    not running"));
    for (LocalFlinkCluster.ClusterProcess tm : cluster.taskManagers()) {
      out.println("  " + tm.name() + ": pid " + tm.pid() + ", metrics " + tm.prometheusUrl());
    }
    out.println("  config:      " + cluster.configFile());
    out.println("  logs:        " + cluster.logDir());
    out.println("  checkpoints: " + cluster.checkpointDir());
    out.println("  savepoints:  " + cluster.savepointDir());
  }
}
