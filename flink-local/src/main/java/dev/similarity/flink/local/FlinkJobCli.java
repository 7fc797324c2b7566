package dev.similarity.flink.local;

import dev.similarity.local.CliCommands;
import dev.similarity.local.CommandLineTool;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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
 * Exit codes ({@link CommandLineTool}): 0 done, 1 failed, 2 bad usage.
 */
@Command(name = "FlinkJobCli")
public final class FlinkJobCli extends CliCommands {

  static final int OK = CommandLineTool.OK;
  static final int FAILED = CommandLineTool.FAILED;
  static final int USAGE = CommandLineTool.USAGE;

  private static final String USAGE_TEXT = """
      usage: FlinkJobCli submit --cluster URL --jar FILE [--entry-class C] [--parallelism P]
                                [--from-savepoint PATH] [--allow-non-restored-state] [-- job arguments...]
             FlinkJobCli stop   --cluster URL --job ID [--savepoint-dir DIR] [--timeout SECONDS]
             FlinkJobCli status --cluster URL --job ID
        submit  upload the jar (POST /jars/upload) and run it (POST /jars/:id/run), as the web UI does
        stop    stop the job with a savepoint (POST /jobs/:id/stop) and print the savepoint's path
        status  the job's state, tasks and checkpoints""";

  /** Everything after the first {@code --}, passed to the job as it is. */
  private List<String> jobArgs = List.of();

  FlinkJobCli(PrintStream out, PrintStream err) {
    super(out, err, USAGE_TEXT);
  }

  public static void main(String[] args) {
    System.exit(new FlinkJobCli(System.out, System.err).run(args));
  }

  /** Everything after the first {@code --} goes to the job as it is; the rest are this tool's. */
  @Override
  public int run(String... args) {
    int separator = Arrays.asList(args).indexOf("--");
    jobArgs = separator < 0 ? List.of() : List.of(args).subList(separator + 1, args.length);
    return super.run(separator < 0 ? args : Arrays.copyOf(args, separator));
  }

  @Override
  protected CommandLineTool configure(CommandLineTool tool) {
    return tool.unexpectedArgumentHint(" (job arguments go after '--')");
  }

  /** Where the cluster is; every command needs it. */
  static final class Cluster {
    @Option(names = "--cluster", paramLabel = "URL") String url;

    FlinkRestClient client() {
      return new FlinkRestClient(CommandLineTool.required(url,
          "--cluster is missing: the REST URL of the cluster, e.g. http://127.0.0.1:8081"));
    }
  }

  /** Which job, for stop and status. */
  static final class Job {
    @Option(names = "--job", paramLabel = "ID") String id;

    String id() {
      return CommandLineTool.required(id, "--job is missing: the job id (the web UI shows it; submit-job prints it)");
    }
  }

  @Command(name = "submit")
  int submit(@Mixin Cluster cluster,
      @Option(names = "--jar", paramLabel = "FILE") Path jar,
      @Option(names = "--entry-class", paramLabel = "C") String entryClass,
      @Option(names = "--parallelism", paramLabel = "P", converter = CommandLineTool.PositiveNumber.class) Integer parallelism,
      @Option(names = "--from-savepoint", paramLabel = "PATH") String savepoint,
      @Option(names = "--allow-non-restored-state") boolean allowNonRestoredState) {
    FlinkRestClient rest = cluster.client();
    CommandLineTool.required(jar, "--jar is missing: the job jar to upload");
    long uploadingAt = System.nanoTime();
    String jarId = rest.uploadJar(jar);
    out.println("uploaded " + jar + " as " + jarId + " in " + CommandLineTool.secondsSince(uploadingAt) + " s");
    String jobId = rest.run(jarId, entryClass, jobArgs, parallelism, savepoint, allowNonRestoredState);
    out.println("job " + jobId + " submitted" + (savepoint == null ? "" : ", resuming from " + savepoint)
        + (parallelism == null ? "" : ", parallelism " + parallelism));
    out.println("  web UI: " + rest.baseUrl() + "/#/job/running/" + jobId + "/overview");
    out.println("  stop with a savepoint: scripts/stop-job --cluster " + rest.baseUrl() + " --job " + jobId);
    return OK;
  }

  @Command(name = "stop")
  int stop(@Mixin Cluster cluster, @Mixin Job job,
      @Option(names = "--savepoint-dir", paramLabel = "DIR") String savepointDir,
      @Option(names = "--timeout", paramLabel = "SECONDS", converter = CommandLineTool.PositiveNumber.class) Integer timeoutSeconds) {
    FlinkRestClient rest = cluster.client();
    String jobId = job.id();
    Duration timeout = Duration.ofSeconds(timeoutSeconds == null ? 300 : timeoutSeconds);
    long stoppingAt = System.nanoTime();
    String savepoint = rest.stopWithSavepoint(jobId, savepointDir, timeout);
    out.println("job " + jobId + " stopped with a savepoint in " + CommandLineTool.secondsSince(stoppingAt) + " s:");
    out.println(savepoint);
    out.println("  resume: scripts/submit-job --cluster " + rest.baseUrl() + " --jar JOB.jar --from-savepoint " + savepoint
        + " [--parallelism P] -- [job arguments]");
    return OK;
  }

  @Command(name = "status")
  int status(@Mixin Cluster cluster, @Mixin Job job) {
    FlinkRestClient rest = cluster.client();
    String jobId = job.id();
    FlinkRestClient.JobInfo info = rest.job(jobId);
    FlinkRestClient.CheckpointStats checkpoints = rest.checkpoints(jobId);
    out.println(info.state() + " " + info.name() + " (" + info.id() + ")");
    out.println("  tasks: " + info.tasks());
    out.println("  checkpoints: " + checkpoints.completed() + " completed, " + checkpoints.failed() + " failed, "
        + checkpoints.inProgress() + " in progress, restored " + checkpoints.restored() + " times");
    checkpoints.latestCompleted().ifPresent(c -> out.println("  latest completed: " + c.id() + " at " + c.externalPath()));
    return OK;
  }
}
