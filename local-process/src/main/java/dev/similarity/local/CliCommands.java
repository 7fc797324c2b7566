package dev.similarity.local;

import java.io.PrintStream;

/**
 * A harness command line ({@code KafkaLocalCli}, {@code S3LocalCli}, {@code FlinkLocalCli}, {@code
 * FlinkJobCli}): a {@code @Command} class whose {@code @Command} methods are its commands and print
 * to {@link #out} and {@link #err}; {@link #run} parses the arguments with {@link CommandLineTool}.
 */
public abstract class CliCommands {

  protected final PrintStream out;
  protected final PrintStream err;
  private final String usage;

  /** @param usage printed after every usage mistake and when no command is given */
  protected CliCommands(PrintStream out, PrintStream err, String usage) {
    this.out = out;
    this.err = err;
    this.usage = usage;
  }

  /** The tool's hints and pass-through commands; none by default. */
  protected CommandLineTool configure(CommandLineTool tool) {
    return tool;
  }

  /** Runs the command that {@code args} name and returns its exit code ({@link CommandLineTool#OK}, ...). */
  public int run(String... args) {
    return configure(CommandLineTool.of(this, usage, err)).run(args);
  }
}
