package dev.similarity.embedding.tools;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --name value} and {@code --flag} command-line options; unknown ones are refused. */
final class Arguments {

  private final String usage;
  private final Map<String, String> values = new HashMap<>();
  private final Set<String> flags = new HashSet<>();

  private Arguments(String usage) {
    this.usage = usage;
  }

  /**
   * Parses {@code args}; {@code valueOptions} take a value, {@code flagOptions} do not.
   *
   * @throws UsageException on an unknown option, a missing value, or {@code --help}
   */
  static Arguments parse(String[] args, String usage, List<String> valueOptions, List<String> flagOptions) {
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
      } else if (flagOptions.contains(name) && inline == null) {
        parsed.flags.add(name);
      } else {
        throw new UsageException("unknown option " + a + "\n" + usage);
      }
    }
    return parsed;
  }

  String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  String require(String name) {
    String value = values.get(name);
    if (value == null) {
      throw new UsageException(name + " is required\n" + usage);
    }
    return value;
  }

  boolean has(String name) {
    return values.containsKey(name) || flags.contains(name);
  }

  int getInt(String name, int fallback) {
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

  float getFloat(String name, float fallback) {
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

  /** Bad command line: the message is printed with the usage and the tool exits with 2. */
  static final class UsageException extends RuntimeException {
    UsageException(String message) {
      super(message);
    }
  }
}
