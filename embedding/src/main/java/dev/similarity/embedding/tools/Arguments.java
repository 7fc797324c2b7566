package dev.similarity.embedding.tools;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code --name value} and {@code --flag} command-line options; unknown ones are refused. An option
 * given twice keeps its last value for {@link #get}; {@link #getAll} has every value. The one parser
 * of the project's command-line tools (the embedding tools, the search service and its benchmark).
 */
public final class Arguments {

  private final String usage;
  private final Map<String, String> values = new HashMap<>();
  private final Map<String, List<String>> repeated = new HashMap<>();
  private final Set<String> flags = new HashSet<>();

  private Arguments(String usage) {
    this.usage = usage;
  }

  /**
   * Parses {@code args}; {@code valueOptions} take a value, {@code flagOptions} do not.
   *
   * @throws UsageException on an unknown option, a missing value, or {@code --help}
   */
  public static Arguments parse(String[] args, String usage, List<String> valueOptions, List<String> flagOptions) {
    Arguments parsed = new Arguments(usage);
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--help") || a.equals("-h")) {
        throw new UsageException(usage);
      }
      String name = a;
      String inline = null;
      int eq = a.indexOf('=');
      if (a.startsWith("--") && eq > 0) {
        name = a.substring(0, eq);
        inline = a.substring(eq + 1);
      }
      if (valueOptions.contains(name)) {
        String value = inline;
        if (value == null) {
          if (i + 1 >= args.length) {
            throw new UsageException(name + " needs a value\n" + usage);
          }
          value = args[++i];
        }
        parsed.values.put(name, value);
        parsed.repeated.computeIfAbsent(name, k -> new java.util.ArrayList<>()).add(value);
      } else if (flagOptions.contains(name) && inline == null) {
        parsed.flags.add(name);
      } else {
        throw new UsageException("unknown option " + a + "\n" + usage);
      }
    }
    return parsed;
  }

  public String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  /** Every value of an option given more than once, in command-line order (empty when absent). */
  public List<String> getAll(String name) {
    return List.copyOf(repeated.getOrDefault(name, List.of()));
  }

  public String require(String name) {
    String value = values.get(name);
    if (value == null) {
      throw new UsageException(name + " is required\n" + usage);
    }
    return value;
  }

  public boolean has(String name) {
    return values.containsKey(name) || flags.contains(name);
  }

  public int getInt(String name, int fallback) {
    String value = values.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new UsageException(name + " must be an integer, was '" + value + "'\n" + usage);
    }
  }

  public float getFloat(String name, float fallback) {
    String value = values.get(name);
    if (value == null) {
      return fallback;
    }
    try {
      return Float.parseFloat(value);
    } catch (NumberFormatException e) {
      throw new UsageException(name + " must be a number, was '" + value + "'\n" + usage);
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

  /** Bad command line: the message is printed with the usage and the tool exits with 2. */
  public static final class UsageException extends RuntimeException {
    public UsageException(String message) {
      super(message);
    }
  }
}
