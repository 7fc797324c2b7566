package dev.similarity.s3.local;

import dev.similarity.local.CliCommands;
import dev.similarity.local.CommandLineTool;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Command line behind {@code scripts/s3-local}: an S3 server for people, left running in the
 * background between commands and found again through its data directory.
 *
 * <pre>
 * S3LocalCli start  --data-dir DIR [--port N] [--bucket NAME]
 * S3LocalCli stop   --data-dir DIR
 * S3LocalCli status --data-dir DIR [--port N]
 * </pre>
 *
 * Exit codes ({@link CommandLineTool}): 0 done (also: start when already running, stop when not
 * running), 1 failed, 2 bad usage, 3 status found no running server.
 */
@Command(name = "S3LocalCli")
public final class S3LocalCli extends CliCommands {

  static final int OK = CommandLineTool.OK;
  static final int FAILED = CommandLineTool.FAILED;
  static final int USAGE = CommandLineTool.USAGE;
  static final int NOT_RUNNING = CommandLineTool.NOT_RUNNING;
  static final int DEFAULT_PORT = 9000;

  private static final String USAGE_TEXT = """
      usage: S3LocalCli start|stop|status --data-dir DIR [--port N] [--bucket NAME]
        start   start an S3 server on 127.0.0.1:PORT (default 9000) in the background with bucket NAME
                (default similarity), objects under DIR/buckets
        stop    stop it (the objects stay)
        status  say whether it runs, its endpoint, bucket, credentials and the settings to use it""";

  S3LocalCli(PrintStream out, PrintStream err) {
    super(out, err, USAGE_TEXT);
  }

  public static void main(String[] args) {
    System.exit(new S3LocalCli(System.out, System.err).run(args));
  }

  @Override
  protected CommandLineTool configure(CommandLineTool tool) {
    return tool
        .conversionHint("--port", "; give the port, e.g. --port 9000 (S3_LOCAL_PORT for scripts/s3-local)");
  }

  /** What every command takes; scripts/s3-local passes --data-dir and --port to each. */
  static final class Options {
    @Option(names = "--data-dir", paramLabel = "DIR") Path dataDir;
    @Option(names = "--port", converter = CommandLineTool.WholeNumber.class) int port = DEFAULT_PORT;
    @Option(names = "--bucket", paramLabel = "NAME") String bucket = LocalS3Server.DEFAULT_BUCKET;

    Path dataDir() {
      return CommandLineTool.required(dataDir, "--data-dir is missing: the directory holding the server's configuration, log and objects")
          .toAbsolutePath().normalize();
    }
  }

  @Command(name = "start")
  int start(@Mixin Options options) {
    Path dataDir = options.dataDir();
    Optional<LocalS3Server> running = LocalS3Server.attach(dataDir);
    if (running.isPresent()) {
      LocalS3Server server = running.get();
      out.println("S3 is already running on " + server.endpoint() + " (pid " + server.pid() + ")");
      if (server.port() != options.port) out.println("  not on port " + options.port + ": stop it first to change the port");
      describe(server);
      return OK;
    }
    long startedAt = System.nanoTime();
    LocalS3Server server = LocalS3Server.builder().dataDir(dataDir).port(options.port).bucket(options.bucket).detached(true).build().start();
    out.println("S3 started on " + server.endpoint() + " (pid " + server.pid() + ") in " + CommandLineTool.secondsSince(startedAt) + " s");
    describe(server);
    return OK;
  }

  @Command(name = "stop")
  int stop(@Mixin Options options) {
    Path dataDir = options.dataDir();
    Optional<LocalS3Server> running = LocalS3Server.attach(dataDir);
    if (running.isEmpty()) {
      out.println("S3 is not running (data dir " + dataDir + ")");
      return OK;
    }
    LocalS3Server server = running.get();
    String description = server.endpoint() + " (pid " + server.pid() + ")";
    long stoppingAt = System.nanoTime();
    server.close();
    out.println("S3 on " + description + " stopped in " + CommandLineTool.secondsSince(stoppingAt) + " s; the objects stay in "
        + dataDir.resolve("buckets"));
    return OK;
  }

  @Command(name = "status")
  int status(@Mixin Options options) {
    Path dataDir = options.dataDir();
    Optional<LocalS3Server> running = LocalS3Server.attach(dataDir);
    if (running.isEmpty()) {
      out.println("not running");
      out.println("  endpoint: http://127.0.0.1:" + options.port + " (once started)");
      out.println("  log:      " + dataDir.resolve("s3proxy.log"));
      return NOT_RUNNING;
    }
    out.println("running");
    out.println("  pid:      " + running.get().pid());
    describe(running.get());
    return OK;
  }

  private void describe(LocalS3Server server) {
    out.println("  endpoint: " + server.endpoint() + " (path-style: " + server.endpoint() + "/" + server.bucket() + "/KEY)");
    out.println("  bucket:   " + server.bucket() + ", objects in " + server.bucketDir());
    out.println("  access key " + server.accessKey() + ", secret key " + server.secretKey());
    out.println("  log:      " + server.logFile());
    out.println("  Flink (config.yaml, or scripts/flink-local start --s3-endpoint ...):");
    server.flinkSettings().forEach((key, value) -> out.println("    " + key + ": " + value));
    out.println("  job:            --snapshot.dir " + server.uri("snapshots"));
    out.println("  search service: scripts/search-service --store " + server.uri("snapshots") + " --s3-endpoint "
        + server.endpoint() + " --s3-access-key " + server.accessKey() + " --s3-secret-key " + server.secretKey());
  }
}
