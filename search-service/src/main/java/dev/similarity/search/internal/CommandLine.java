package dev.similarity.search.internal;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code --name value} options of the service's and the benchmark's mains; unknown ones are refused. */
public final class CommandLine {

  private final String usage;
  private final Map<String, String> values = new HashMap<>();

  private CommandLine(String usage) {
    this.usage = usage;
  }

  /**
   * Parses {@code args}, each {@code --name value} or {@code --name=value}.
   *
   * @throws UsageException on an unknown option, a missing value, or {@code --help}
   */
  public static CommandLine parse(String[] args, String usage, List<String> options) {
    CommandLine parsed = new CommandLine(usage);
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (arg.equals("--help") || arg.equals("-h")) {
        throw new UsageException(usage);
      }
      int eq = arg.indexOf('=');
      String name = arg.startsWith("--") && eq > 0 ? arg.substring(0, eq) : arg;
      if (!options.contains(name)) {
        throw new UsageException("unknown option " + arg + "\n" + usage);
      }
      String value;
      if (eq > 0 && arg.startsWith("--")) {
        value = arg.substring(eq + 1);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new UsageException(name + " needs a value\n" + usage);
      }
      parsed.values.put(name, value);
    }
    return parsed;
  }

  public String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  public String require(String name) {
    String value = values.get(name);
    if (value == null) {
      throw new UsageException(name + " is required\n" + usage);
    }
    return value;
  }

  public boolean has(String name) {
    return values.containsKey(name);
  }

  public int getInt(String name, int fallback) {
    String value = values.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new UsageException(name + " must be an integer, was '" + value + "'\n" + usage);
    }
  }

  /** A duration written {@code 500ms}, {@code 5s}, {@code 2m} or {@code 1h}. */
  public Duration getDuration(String name, Duration fallback) {
    String value = values.get(name);
    if (value == null) {
      return fallback;
    }
    String v = value.trim().toLowerCase(Locale.ROOT);
    try {
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      }
      long amount = Long.parseLong(v.substring(0, v.length() - 1));
      switch (v.charAt(v.length() - 1)) {
        case 's': return Duration.ofSeconds(amount);
        case 'm': return Duration.ofMinutes(amount);
        case 'h': return Duration.ofHours(amount);
        default: break;
      }
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      // falls through to the usage error
    }
    throw new UsageException(name + " must be a duration such as 500ms, 5s or 2m, was '" + value + "'\n" + usage);
  }

  /** A bad command line: the message is printed with the usage and the program exits with 2. */
  public static final class UsageException extends RuntimeException {
    public UsageException(String message) {
      super(message);
    }
  }
}
