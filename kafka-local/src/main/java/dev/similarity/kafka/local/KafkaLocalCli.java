package dev.similarity.kafka.local;

import dev.similarity.local.CliCommands;
import dev.similarity.local.CommandLineTool;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

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
 * Exit codes ({@link CommandLineTool}): 0 done (also: start when already running, stop when not
 * running), 1 failed, 2 bad usage, 3 status found no running broker.
 */
@Command(name = "KafkaLocalCli")
public final class KafkaLocalCli extends CliCommands {

  static final int OK = CommandLineTool.OK;
  static final int FAILED = CommandLineTool.FAILED;
  static final int USAGE = CommandLineTool.USAGE;
  static final int NOT_RUNNING = CommandLineTool.NOT_RUNNING;

  private static final String USAGE_TEXT = """
      usage: KafkaLocalCli start|stop|status|topics --data-dir DIR [--port N] [kafka-topics arguments]
        start   start a broker on 127.0.0.1:PORT (default 9092) in the background, state in DIR
        stop    stop it
        status  say whether it runs, its bootstrap address and its log file
        topics  run kafka-topics against it, e.g. 'topics --list'""";

  KafkaLocalCli(PrintStream out, PrintStream err) {
    super(out, err, USAGE_TEXT);
  }

  public static void main(String[] args) {
    System.exit(new KafkaLocalCli(System.out, System.err).run(args));
  }

  @Override
  protected CommandLineTool configure(CommandLineTool tool) {
    return tool
        .conversionHint("--port", "; give the client port, e.g. --port 9092 (KAFKA_PORT for scripts/kafka-local)")
        .passThrough("topics");
  }

  /** What every command takes; scripts/kafka-local passes both to each. */
  static final class Options {
    @Option(names = "--data-dir", paramLabel = "DIR") Path dataDir;
    @Option(names = "--port", converter = CommandLineTool.WholeNumber.class) int port = 9092;

    Path dataDir() {
      return CommandLineTool.required(dataDir, "--data-dir is missing: the directory holding the broker's state")
          .toAbsolutePath().normalize();
    }
  }

  @Command(name = "start")
  int start(@Mixin Options options) {
    Path dataDir = options.dataDir();
    Optional<LocalKafkaBroker> running = LocalKafkaBroker.attach(dataDir);
    if (running.isPresent()) {
      LocalKafkaBroker broker = running.get();
      out.println("Kafka is already running on " + broker.bootstrapServers() + " (pid " + broker.pid() + ")");
      if (broker.port() != options.port) {
        out.println("  not on port " + options.port + ": stop it first to change the port");
      }
      out.println("  log:  " + broker.logFile());
      return OK;
    }
    long startedAt = System.nanoTime();
    LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(dataDir).port(options.port).detached(true).build().start();
    out.println("Kafka started on " + broker.bootstrapServers() + " (pid " + broker.pid() + ") in "
        + CommandLineTool.secondsSince(startedAt) + " s");
    out.println("  data: " + broker.dataDir());
    out.println("  log:  " + broker.logFile());
    out.println("  transaction.max.timeout.ms: " + broker.transactionMaxTimeoutMs());
    return OK;
  }

  @Command(name = "stop")
  int stop(@Mixin Options options) {
    Path dataDir = options.dataDir();
    Optional<LocalKafkaBroker> running = LocalKafkaBroker.attach(dataDir);
    if (running.isEmpty()) {
      out.println("Kafka is not running (data dir " + dataDir + ")");
      return OK;
    }
    LocalKafkaBroker broker = running.get();
    String description = broker.bootstrapServers() + " (pid " + broker.pid() + ")";
    long stoppingAt = System.nanoTime();
    broker.close();
    out.println("Kafka on " + description + " stopped in " + CommandLineTool.secondsSince(stoppingAt) + " s");
    return OK;
  }

  @Command(name = "status")
  int status(@Mixin Options options) {
    Path dataDir = options.dataDir();
    Optional<LocalKafkaBroker> running = LocalKafkaBroker.attach(dataDir);
    if (running.isEmpty()) {
      out.println("not running");
      out.println("  bootstrap: 127.0.0.1:" + options.port + " (once started)");
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

  @Command(name = "topics")
  int topics(@Mixin Options options, @Parameters(paramLabel = "KAFKA_TOPICS_ARGUMENT") List<String> kafkaTopicsArgs) {
    Path dataDir = options.dataDir();
    Optional<LocalKafkaBroker> running = LocalKafkaBroker.attach(dataDir);
    if (running.isEmpty()) {
      err.println("Kafka is not running (data dir " + dataDir + "); start it with scripts/kafka-local start");
      return FAILED;
    }
    List<String> args = kafkaTopicsArgs == null ? List.of() : kafkaTopicsArgs;
    out.print(running.get().kafkaTopics(args.toArray(String[]::new)));
    return OK;
  }
}
