package dev.similarity.flink.local;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.BiFunction;

/** One in-process run of a command line: its exit code and what it printed. */
record CliRun(int exitCode, String out, String err) {

  interface Cli {
    int run(String[] args);
  }

  static CliRun of(BiFunction<PrintStream, PrintStream, Cli> cli, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exitCode = cli.apply(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8))
        .run(args);
    return new CliRun(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static CliRun flinkLocal(String... args) {
    return of((out, err) -> new FlinkLocalCli(out, err)::run, args);
  }

  static CliRun flinkJob(String... args) {
    return of((out, err) -> new FlinkJobCli(out, err)::run, args);
  }

  @Override
  public String toString() {
    return "exit " + exitCode + "\nstdout:\n" + out + "\nstderr:\n" + err;
  }
}
