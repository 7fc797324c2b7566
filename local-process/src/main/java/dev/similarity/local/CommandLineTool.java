package dev.similarity.local;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The skeleton of the harness's command lines ({@code scripts/kafka-local}, {@code s3-local},
 * {@code flink-local}, {@code submit-job}, {@code stop-job}): picocli parses a tool object whose
 * {@code @Command} methods are its commands ({@code start}, {@code stop}, ...), and every tool
 * answers mistakes and failures alike:
 *
 * <ul>
 *   <li>a usage mistake prints what is wrong, then the tool's usage text, on stderr: exit {@link #USAGE};
 *   <li>a failure ({@code RuntimeException} of a command) prints {@code error: MESSAGE} on stderr: exit {@link #FAILED};
 *   <li>a command returns its own exit code ({@link #OK}, {@link #NOT_RUNNING}).
 * </ul>
 *
 * Commands are matched case-insensitively; {@code @file} arguments are not expanded.
 */
public final class CommandLineTool {

  /** Done; also: start when already running, stop when not running. */
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  /** status found nothing running. */
  public static final int NOT_RUNNING = 3;

  private final CommandLine commandLine;
  private final String usage;
  private final PrintStream err;
  private final Map<String, String> conversionHints = new HashMap<>();
  private String unexpectedArgumentHint = "";

  private CommandLineTool(Object tool, String usage, PrintStream err) {
    this.commandLine = new CommandLine(tool).setExpandAtFiles(false);
    this.usage = usage;
    this.err = err;
    commandLine.setSubcommandsCaseInsensitive(true);
    commandLine.setParameterExceptionHandler((e, args) -> usageError(describe(e)));
    commandLine.setExecutionExceptionHandler((e, line, result) -> {
      if (e instanceof UsageException usageException) return usageError(usageException.getMessage());
      if (!(e instanceof RuntimeException)) throw e;
      err.println("error: " + e.getMessage());
      return FAILED;
    });
  }

  /**
   * @param tool an object of a {@code @Command} class whose {@code @Command} methods are the commands
   * @param usage printed after every usage mistake and when no command is given
   */
  public static CommandLineTool of(Object tool, String usage, PrintStream err) {
    return new CommandLineTool(tool, usage, err);
  }

  /** Appended to the message for a value of {@code option} that does not convert, e.g. {@code " (FLINK_REST_PORT for scripts/flink-local)"}. */
  public CommandLineTool conversionHint(String option, String hint) {
    conversionHints.put(option, hint);
    return this;
  }

  /** Appended to "unexpected argument 'X'", e.g. {@code " (job arguments go after '--')"}. */
  public CommandLineTool unexpectedArgumentHint(String hint) {
    unexpectedArgumentHint = hint;
    return this;
  }

  /** Arguments of {@code command} that are not its options go to its positional parameters, e.g. a wrapped tool's own options. */
  public CommandLineTool passThrough(String command) {
    commandLine.getSubcommands().get(command).setUnmatchedOptionsArePositionalParams(true);
    return this;
  }

  /** Parses {@code args}, runs the command they name and returns its exit code. */
  public int run(String... args) {
    if (args.length == 0) {
      err.println(usage);
      return USAGE;
    }
    return commandLine.execute(args);
  }

  /** A mistake a command finds in its own arguments: exit {@link #USAGE} with the usage text. */
  public static final class UsageException extends RuntimeException {
    public UsageException(String message) {
      super(message);
    }
  }

  /** @throws UsageException with {@code message} when {@code value} is null, e.g. a missing {@code --data-dir} */
  public static <T> T required(T value, String message) {
    if (value == null) throw new UsageException(message);
    return value;
  }

  /** Seconds since {@code startNanos} ({@link System#nanoTime()}), one decimal: {@code 12.3}. */
  public static String secondsSince(long startNanos) {
    return String.format(Locale.ROOT, "%.1f", (System.nanoTime() - startNanos) / 1e9);
  }

  /** An {@code int} option: "'x' is not a number". */
  public static final class WholeNumber implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        return Integer.parseInt(value);
      } catch (NumberFormatException e) {
        throw new TypeConversionException("is not a number");
      }
    }
  }

  /** An {@code int} option of 1 or more: "'x' is not a positive whole number". */
  public static final class PositiveNumber implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      try {
        int number = Integer.parseInt(value);
        if (number >= 1) return number;
      } catch (NumberFormatException e) {
        // the message below
      }
      throw new TypeConversionException("is not a positive whole number");
    }
  }

  private int usageError(String message) {
    err.println(message + "\n" + usage);
    return USAGE;
  }

  private String describe(ParameterException e) {
    if (e instanceof UnmatchedArgumentException unmatched && !unmatched.getUnmatched().isEmpty()) {
      String first = unmatched.getUnmatched().get(0);
      // At the top level the first word is the command.
      if (e.getCommandLine() == commandLine) return "unknown command '" + first + "'";
      return "unexpected argument '" + first + "'" + unexpectedArgumentHint;
    }
    if (e instanceof MissingParameterException missing && !missing.getMissing().isEmpty()) {
      return names(missing.getMissing()) + " needs a value";
    }
    if (e.getCause() instanceof TypeConversionException conversion && e.getArgSpec() instanceof OptionSpec option) {
      return option.longestName() + " '" + e.getValue() + "' " + conversion.getMessage()
          + conversionHints.getOrDefault(option.longestName(), "");
    }
    return e.getMessage();
  }

  private static String names(List<ArgSpec> specs) {
    return String.join(", ", specs.stream().map(s -> s instanceof OptionSpec o ? o.longestName() : s.paramLabel()).toList());
  }
}
