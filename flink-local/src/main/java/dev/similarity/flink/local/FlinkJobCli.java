package dev.similarity.flink.local;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Command line behind {@code scripts/submit-job} and {@code scripts/stop-job}: the web UI's "Submit
 * New Job" and "Stop" (with a savepoint) against any Flink 2 cluster's REST API.
 *
 * <pre>
 * FlinkJobCli submit --cluster URL --jar FILE [--entry-class C] [--parallelism P] [--from-savepoint PATH]
 *                    [--allow-non-restored-state] [-- job arguments...]
 * FlinkJobCli stop   --cluster URL --job ID [--savepoint-dir DIR] [--timeout SECONDS]
 * FlinkJobCli status --cluster URL --job ID
 * </pre>
 *
 * Exit codes: 0 done, 1 failed, 2 bad usage.
 */
public final class FlinkJobCli {

  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;

  private static final String USAGE_TEXT = """
      usage: FlinkJobCli submit --cluster URL --jar FILE [--entry-class C] [--parallelism P]
                                [--from-savepoint PATH] [--allow-non-restored-state] [-- job arguments...]
             FlinkJobCli stop   --cluster URL --job ID [--savepoint-dir DIR] [--timeout SECONDS]
             FlinkJobCli status --cluster URL --job ID
        submit  upload the jar (POST /jars/upload) and run it (POST /jars/:id/run), as the web UI does
        stop    stop the job with a savepoint (POST /jobs/:id/stop) and print the savepoint's path
        status  the job's state, tasks and checkpoints""";

  private final PrintStream out;
  private final PrintStream err;

  FlinkJobCli(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    System.exit(new FlinkJobCli(System.out, System.err).run(args));
  }

  int run(String[] args) {
    if (args.length == 0) {
      err.println(USAGE_TEXT);
      return USAGE;
    }
    String command = args[0].toLowerCase(Locale.ROOT);
    String cluster = null;
    Path jar = null;
    String entryClass = null;
    Integer parallelism = null;
    String savepoint = null;
    boolean allowNonRestoredState = false;
    String jobId = null;
    String savepointDir = null;
    long timeoutSeconds = 300;
    List<String> jobArgs = new ArrayList<>();
    try {
      for (int i = 1; i < args.length; i++) {
        String option = args[i];
        switch (option) {
          case "--" -> {
            jobArgs.addAll(List.of(args).subList(i + 1, args.length));
            i = args.length;
          }
          case "--cluster" -> cluster = value(args, ++i, option);
          case "--jar" -> jar = Path.of(value(args, ++i, option));
          case "--entry-class" -> entryClass = value(args, ++i, option);
          case "--parallelism" -> parallelism = positive(value(args, ++i, option), option);
          case "--from-savepoint" -> savepoint = value(args, ++i, option);
          case "--allow-non-restored-state" -> allowNonRestoredState = true;
          case "--job" -> jobId = value(args, ++i, option);
          case "--savepoint-dir" -> savepointDir = value(args, ++i, option);
          case "--timeout" -> timeoutSeconds = positive(value(args, ++i, option), option);
          default -> throw new IllegalArgumentException("unexpected argument '" + option + "' (job arguments go after '--')");
        }
      }
      if (cluster == null) throw new IllegalArgumentException("--cluster is missing: the REST URL of the cluster, e.g. http://127.0.0.1:8081");
      if (command.equals("submit") && jar == null) throw new IllegalArgumentException("--jar is missing: the job jar to upload");
      if ((command.equals("stop") || command.equals("status")) && jobId == null) {
        throw new IllegalArgumentException("--job is missing: the job id (the web UI shows it; submit-job prints it)");
      }
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage() + "\n" + USAGE_TEXT);
      return USAGE;
    }
    try {
      FlinkRestClient rest = new FlinkRestClient(cluster);
      return switch (command) {
        case "submit" -> submit(rest, jar, entryClass, parallelism, savepoint, allowNonRestoredState, jobArgs);
        case "stop" -> stop(rest, jobId, savepointDir, Duration.ofSeconds(timeoutSeconds));
        case "status" -> status(rest, jobId);
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

  private int submit(FlinkRestClient rest, Path jar, String entryClass, Integer parallelism, String savepoint,
      boolean allowNonRestoredState, List<String> jobArgs) {
    long uploadingAt = System.nanoTime();
    String jarId = rest.uploadJar(jar);
    out.printf(Locale.ROOT, "uploaded %s as %s in %.1f s%n", jar, jarId, (System.nanoTime() - uploadingAt) / 1e9);
    String jobId = rest.run(jarId, entryClass, jobArgs, parallelism, savepoint, allowNonRestoredState);
    out.println("job " + jobId + " submitted" + (savepoint == null ? "" : ", resuming from " + savepoint)
        + (parallelism == null ? "" : ", parallelism " + parallelism));
    out.println("  web UI: " + rest.baseUrl() + "/#/job/running/" + jobId + "/overview");
    out.println("  stop with a savepoint: scripts/stop-job --cluster " + rest.baseUrl() + " --job " + jobId);
    return OK;
  }

  private int stop(FlinkRestClient rest, String jobId, String savepointDir, Duration timeout) {
    long stoppingAt = System.nanoTime();
    String savepoint = rest.stopWithSavepoint(jobId, savepointDir, timeout);
    out.printf(Locale.ROOT, "job %s stopped with a savepoint in %.1f s:%n%s%n", jobId, (System.nanoTime() - stoppingAt) / 1e9, savepoint);
    out.println("  resume: scripts/submit-job --cluster " + rest.baseUrl() + " --jar JOB.jar --from-savepoint " + savepoint
        + " [--parallelism P] -- [job arguments]");
    return OK;
  }

  private int status(FlinkRestClient rest, String jobId) {
    FlinkRestClient.JobInfo job = rest.job(jobId);
    FlinkRestClient.CheckpointStats checkpoints = rest.checkpoints(jobId);
    out.println(job.state() + " " + job.name() + " (" + job.id() + ")");
    out.println("  tasks: " + job.tasks());
    out.println("  checkpoints: " + checkpoints.completed() + " completed, " + checkpoints.failed() + " failed, "
        + checkpoints.inProgress() + " in progress, restored " + checkpoints.restored() + " times");
    checkpoints.latestCompleted().ifPresent(c -> out.println("  latest completed: " + c.id() + " at " + c.externalPath()));
    return OK;
  }

  private static String value(String[] args, int index, String option) {
    if (index >= args.length) throw new IllegalArgumentException(option + " needs a value");
    return args[index];
  }

  private static int positive(String text, String option) {
    try {
      int value = Integer.parseInt(text);
      if (value >= 1) return value;
    } catch (NumberFormatException e) {
      // falls through to the message below
    }
    throw new IllegalArgumentException(option + " '" + text + "' is not a positive whole number");
  }
}
