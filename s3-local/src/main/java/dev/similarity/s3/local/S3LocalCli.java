package dev.similarity.s3.local;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

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
 * Exit codes: 0 done (also: start when already running, stop when not running), 1 failed,
 * 2 bad usage, 3 status found no running server.
 */
public final class S3LocalCli {

  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int NOT_RUNNING = 3;
  static final int DEFAULT_PORT = 9000;

  private static final String USAGE_TEXT = """
      usage: S3LocalCli start|stop|status --data-dir DIR [--port N] [--bucket NAME]
        start   start an S3 server on 127.0.0.1:PORT (default 9000) in the background with bucket NAME
                (default similarity), objects under DIR/buckets
        stop    stop it (the objects stay)
        status  say whether it runs, its endpoint, bucket, credentials and the settings to use it""";

  private final PrintStream out;
  private final PrintStream err;

  S3LocalCli(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    System.exit(new S3LocalCli(System.out, System.err).run(args));
  }

  int run(String[] args) {
    if (args.length == 0) {
      err.println(USAGE_TEXT);
      return USAGE;
    }
    String command = args[0].toLowerCase(Locale.ROOT);
    Path dataDir = null;
    int port = DEFAULT_PORT;
    String bucket = LocalS3Server.DEFAULT_BUCKET;
    for (int i = 1; i < args.length; i++) {
      String option = args[i];
      if (i + 1 >= args.length || !option.startsWith("--")) {
        err.println("unexpected argument '" + option + "'\n" + USAGE_TEXT);
        return USAGE;
      }
      String value = args[++i];
      switch (option) {
        case "--data-dir" -> dataDir = Path.of(value).toAbsolutePath().normalize();
        case "--bucket" -> bucket = value;
        case "--port" -> {
          try {
            port = Integer.parseInt(value);
          } catch (NumberFormatException e) {
            err.println("--port '" + value + "' is not a number; give the port, e.g. --port 9000 (S3_LOCAL_PORT for scripts/s3-local)");
            return USAGE;
          }
        }
        default -> {
          err.println("unexpected argument '" + option + "'\n" + USAGE_TEXT);
          return USAGE;
        }
      }
    }
    if (dataDir == null) {
      err.println("--data-dir is missing: the directory holding the server's configuration, log and objects\n" + USAGE_TEXT);
      return USAGE;
    }
    try {
      return switch (command) {
        case "start" -> start(dataDir, port, bucket);
        case "stop" -> stop(dataDir);
        case "status" -> status(dataDir, port);
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

  private int start(Path dataDir, int port, String bucket) {
    Optional<LocalS3Server> running = LocalS3Server.attach(dataDir);
    if (running.isPresent()) {
      LocalS3Server server = running.get();
      out.println("S3 is already running on " + server.endpoint() + " (pid " + server.pid() + ")");
      if (server.port() != port) out.println("  not on port " + port + ": stop it first to change the port");
      describe(server);
      return OK;
    }
    long startedAt = System.nanoTime();
    LocalS3Server server = LocalS3Server.builder().dataDir(dataDir).port(port).bucket(bucket).detached(true).build().start();
    out.printf(Locale.ROOT, "S3 started on %s (pid %d) in %.1f s%n", server.endpoint(), server.pid(),
        (System.nanoTime() - startedAt) / 1e9);
    describe(server);
    return OK;
  }

  private int stop(Path dataDir) {
    Optional<LocalS3Server> running = LocalS3Server.attach(dataDir);
    if (running.isEmpty()) {
      out.println("S3 is not running (data dir " + dataDir + ")");
      return OK;
    }
    LocalS3Server server = running.get();
    String description = server.endpoint() + " (pid " + server.pid() + ")";
    long stoppingAt = System.nanoTime();
    server.close();
    out.printf(Locale.ROOT, "S3 on %s stopped in %.1f s; the objects stay in %s%n", description,
        (System.nanoTime() - stoppingAt) / 1e9, dataDir.resolve("buckets"));
    return OK;
  }

  private int status(Path dataDir, int port) {
    Optional<LocalS3Server> running = LocalS3Server.attach(dataDir);
    if (running.isEmpty()) {
      out.println("not running");
      out.println("  endpoint: http://127.0.0.1:" + port + " (once started)");
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
