package dev.similarity.kafka.local;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Command line behind {@code scripts/kafka-local}: a broker for people, left running in the
 * background between commands and found again through its data directory.
 *
 * <pre>
 * KafkaLocalCli start  --data-dir DIR [--port N]
 * KafkaLocalCli stop   --data-dir DIR
 * KafkaLocalCli status --data-dir DIR [--port N]
 * KafkaLocalCli topics --data-dir DIR [kafka-topics arguments, e.g. --list]
 * </pre>
 *
 * Exit codes: 0 done (also: start when already running, stop when not running), 1 failed,
 * 2 bad usage, 3 status found no running broker.
 */
public final class KafkaLocalCli {

  static final int OK = 0;
  static final int FAILED = 1;
  static final int USAGE = 2;
  static final int NOT_RUNNING = 3;

  private static final String USAGE_TEXT = """
      usage: KafkaLocalCli start|stop|status|topics --data-dir DIR [--port N] [kafka-topics arguments]
        start   start a broker on 127.0.0.1:PORT (default 9092) in the background, state in DIR
        stop    stop it
        status  say whether it runs, its bootstrap address and its log file
        topics  run kafka-topics against it, e.g. 'topics --list'""";

  private final PrintStream out;
  private final PrintStream err;

  KafkaLocalCli(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static void main(String[] args) {
    System.exit(new KafkaLocalCli(System.out, System.err).run(args));
  }

  int run(String[] args) {
    if (args.length == 0) {
      err.println(USAGE_TEXT);
      return USAGE;
    }
    String command = args[0].toLowerCase(Locale.ROOT);
    Path dataDir = null;
    int port = 9092;
    List<String> rest = new ArrayList<>();
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--data-dir") && i + 1 < args.length) {
        dataDir = Path.of(args[++i]).toAbsolutePath().normalize();
      } else if (args[i].equals("--port") && i + 1 < args.length) {
        try {
          port = Integer.parseInt(args[++i]);
        } catch (NumberFormatException e) {
          err.println("--port '" + args[i] + "' is not a number; give the client port, e.g. --port 9092 (KAFKA_PORT for scripts/kafka-local)");
          return USAGE;
        }
      } else {
        rest.add(args[i]);
      }
    }
    if (dataDir == null) {
      err.println("--data-dir is missing: the directory holding the broker's state\n" + USAGE_TEXT);
      return USAGE;
    }
    if (!command.equals("topics") && !rest.isEmpty()) {
      err.println("unexpected arguments " + rest + "\n" + USAGE_TEXT);
      return USAGE;
    }
    try {
      return switch (command) {
        case "start" -> start(dataDir, port);
        case "stop" -> stop(dataDir);
        case "status" -> status(dataDir, port);
        case "topics" -> topics(dataDir, rest);
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

  private int start(Path dataDir, int port) {
    Optional<LocalKafkaBroker> running = LocalKafkaBroker.attach(dataDir);
    if (running.isPresent()) {
      LocalKafkaBroker broker = running.get();
      out.println("Kafka is already running on " + broker.bootstrapServers() + " (pid " + broker.pid() + ")");
      if (broker.port() != port) {
        out.println("  not on port " + port + ": stop it first to change the port");
      }
      out.println("  log:  " + broker.logFile());
      return OK;
    }
    long startedAt = System.nanoTime();
    LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(dataDir).port(port).detached(true).build().start();
    out.printf(Locale.ROOT, "Kafka started on %s (pid %d) in %.1f s%n", broker.bootstrapServers(), broker.pid(),
        (System.nanoTime() - startedAt) / 1e9);
    out.println("  data: " + broker.dataDir());
    out.println("  log:  " + broker.logFile());
    out.println("  transaction.max.timeout.ms: " + broker.transactionMaxTimeoutMs());
    return OK;
  }

  private int stop(Path dataDir) {
    Optional<LocalKafkaBroker> running = LocalKafkaBroker.attach(dataDir);
    if (running.isEmpty()) {
      out.println("Kafka is not running (data dir " + dataDir + ")");
      return OK;
    }
    LocalKafkaBroker broker = running.get();
    String description = broker.bootstrapServers() + " (pid " + broker.pid() + ")";
    long stoppingAt = System.nanoTime();
    broker.close();
    out.printf(Locale.ROOT, "Kafka on %s stopped in %.1f s%n", description, (System.nanoTime() - stoppingAt) / 1e9);
    return OK;
  }

  private int status(Path dataDir, int port) {
    Optional<LocalKafkaBroker> running = LocalKafkaBroker.attach(dataDir);
    if (running.isEmpty()) {
      out.println("not running");
      out.println("  bootstrap: 127.0.0.1:" + port + " (once started)");
      out.println("  log:       " + dataDir.resolve("broker.log"));
      return NOT_RUNNING;
    }
    LocalKafkaBroker broker = running.get();
    out.println("running");
    out.println("  bootstrap: " + broker.bootstrapServers());
    out.println("  pid:       " + broker.pid());
    out.println("  log:       " + broker.logFile());
    out.println("  data:      " + broker.dataDir());
    return OK;
  }

  private int topics(Path dataDir, List<String> args) {
    Optional<LocalKafkaBroker> running = LocalKafkaBroker.attach(dataDir);
    if (running.isEmpty()) {
      err.println("Kafka is not running (data dir " + dataDir + "); start it with scripts/kafka-local start");
      return FAILED;
    }
    out.print(running.get().kafkaTopics(args.toArray(String[]::new)));
    return OK;
  }
}
