package dev.similarity.flink.local;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

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
 * Exit codes: 0 done (also: start when already running, stop when not running), 1 failed,
 * 2 bad usage, 3 status found no running cluster.
 */
public final class FlinkLocalCli {

  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int NOT_RUNNING = 3;

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

  private final PrintStream out;
  private final PrintStream err;

  FlinkLocalCli(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    System.exit(new FlinkLocalCli(System.out, System.err).run(args));
  }

  int run(String[] args) {
    if (args.length == 0) {
      err.println(USAGE_TEXT);
      return USAGE;
    }
    String command = args[0].toLowerCase(Locale.ROOT);
    Path workDir = null;
    int restPort = DEFAULT_REST_PORT;
    int taskManagers = LocalFlinkCluster.DEFAULT_TASK_MANAGERS;
    int slots = LocalFlinkCluster.DEFAULT_SLOTS_PER_TASK_MANAGER;
    int prometheusPort = DEFAULT_PROMETHEUS_PORT;
    Map<String, String> s3 = new LinkedHashMap<>();
    for (int i = 1; i < args.length; i++) {
      String option = args[i];
      try {
        switch (option) {
          case "--work-dir" -> workDir = Path.of(value(args, ++i, option)).toAbsolutePath().normalize();
          case "--rest-port" -> restPort = number(value(args, ++i, option), option, "FLINK_REST_PORT for scripts/flink-local");
          case "--taskmanagers" -> taskManagers = number(value(args, ++i, option), option, "e.g. --taskmanagers 2");
          case "--slots" -> slots = number(value(args, ++i, option), option, "e.g. --slots 2");
          case "--prometheus-port" -> prometheusPort = number(value(args, ++i, option), option, "e.g. --prometheus-port 9250");
          case "--s3-endpoint" -> {
            s3.put("s3.endpoint", value(args, ++i, option));
            s3.put("s3.path.style.access", "true");
          }
          case "--s3-access-key" -> s3.put("s3.access-key", value(args, ++i, option));
          case "--s3-secret-key" -> s3.put("s3.secret-key", value(args, ++i, option));
          default -> {
            err.println("unexpected argument '" + option + "'" + "\n" + USAGE_TEXT);
            return USAGE;
          }
        }
      } catch (IllegalArgumentException e) {
        err.println(e.getMessage() + "\n" + USAGE_TEXT);
        return USAGE;
      }
    }
    if (s3.containsKey("s3.access-key") != s3.containsKey("s3.secret-key")) {
      err.println("give both --s3-access-key and --s3-secret-key, or neither\n" + USAGE_TEXT);
      return USAGE;
    }
    if (!s3.isEmpty() && !command.equals("start")) {
      err.println("--s3-* options configure a cluster being started; they do not apply to " + command + "\n" + USAGE_TEXT);
      return USAGE;
    }
    if (workDir == null) {
      err.println("--work-dir is missing: the directory holding the cluster's configuration, logs and checkpoints\n" + USAGE_TEXT);
      return USAGE;
    }
    try {
      return switch (command) {
        case "start" -> start(workDir, restPort, taskManagers, slots, prometheusPort, s3);
        case "stop" -> stop(workDir);
        case "status" -> status(workDir);
        case "add-taskmanager" -> addTaskManager(workDir);
        default -> {
          err.println("unknown command '" + args[0] + "'\n" + USAGE_TEXT);
          yield USAGE;
        }
      };
    } catch (RuntimeException e) {
      err.println("error: " + e.getMessage());
      return FAILED;
    }
  }

  private int start(Path workDir, int restPort, int taskManagers, int slots, int prometheusPort, Map<String, String> s3) {
    Optional<LocalFlinkCluster> running = LocalFlinkCluster.attach(workDir);
    if (running.isPresent()) {
      LocalFlinkCluster cluster = running.get();
      out.println("Flink is already running: web UI " + cluster.restUrl());
      if (cluster.restPort() != restPort) out.println("  not on port " + restPort + ": stop it first to change the port");
      describe(cluster);
      return OK;
    }
    long startedAt = System.nanoTime();
    LocalFlinkCluster cluster = LocalFlinkCluster.builder().workDir(workDir).restPort(restPort).taskManagers(taskManagers)
        .slotsPerTaskManager(slots).prometheusPort(prometheusPort).config(s3).detached(true).build().start();
    out.printf(Locale.ROOT, "Flink started in %.1f s: web UI and REST API %s%n", (System.nanoTime() - startedAt) / 1e9, cluster.restUrl());
    describe(cluster);
    return OK;
  }

  private int stop(Path workDir) {
    Optional<LocalFlinkCluster> running = LocalFlinkCluster.attach(workDir);
    if (running.isEmpty()) {
      out.println("Flink is not running (work dir " + workDir + ")");
      return OK;
    }
    LocalFlinkCluster cluster = running.get();
    String description = cluster.restUrl() + " (" + (cluster.taskManagers().size() + cluster.jobManager().stream().count()) + " processes)";
    long stoppingAt = System.nanoTime();
    cluster.close();
    out.printf(Locale.ROOT, "Flink on %s stopped in %.1f s%n", description, (System.nanoTime() - stoppingAt) / 1e9);
    return OK;
  }

  private int status(Path workDir) {
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

  private int addTaskManager(Path workDir) {
    Optional<LocalFlinkCluster> running = LocalFlinkCluster.attach(workDir);
    if (running.isEmpty()) {
      err.println("Flink is not running (work dir " + workDir + "); start it with scripts/flink-local start");
      return FAILED;
    }
    long startedAt = System.nanoTime();
    int index = running.get().startTaskManager();
    out.printf(Locale.ROOT, "taskmanager-%d registered in %.1f s%n", index, (System.nanoTime() - startedAt) / 1e9);
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

  private static String value(String[] args, int index, String option) {
    if (index >= args.length) throw new IllegalArgumentException(option + " needs a value");
    return args[index];
  }

  private static int number(String text, String option, String hint) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " '" + text + "' is not a number (" + hint + ")");
    }
  }
}
