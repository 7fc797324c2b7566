package dev.similarity.local;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.BiFunction;

/** One in-process run of a harness command line: its exit code and what it printed on stdout and stderr. */
public record CliRun(int exitCode, String out, String err) {

  /** A command line's entry point, e.g. {@code new KafkaLocalCli(out, err)::run}. */
  public interface Cli {
    int run(String[] args);
  }

  /** Runs {@code args} against the command line that {@code cli} makes for the given stdout and stderr. */
  public static CliRun of(BiFunction<PrintStream, PrintStream, Cli> cli, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exitCode = cli.apply(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
        .run(args);
    return new CliRun(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "exit " + exitCode + "\nstdout:\n" + out + "\nstderr:\n" + err;
  }
}
