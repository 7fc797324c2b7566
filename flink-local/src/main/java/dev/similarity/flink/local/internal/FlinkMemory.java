package dev.similarity.flink.local.internal;

import dev.similarity.local.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Flink's memory calculator ({@code BashJavaUtils}), the one its start-up scripts run before every
 * JobManager and TaskManager: what Flink derives from {@code *.memory.process.size}.
 */
public final class FlinkMemory {

  private static final String MEMORY_TOOL = "org.apache.flink.runtime.util.bash.BashJavaUtils";
  private static final String RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";
  private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);

  private FlinkMemory() {}

  /** Which process Flink sizes: its memory options differ. */
  public enum Role {
    JOB_MANAGER("GET_JM_RESOURCE_PARAMS"),
    TASK_MANAGER("GET_TM_RESOURCE_PARAMS");

    private final String command;

    Role(String command) {
      this.command = command;
    }
  }

  /**
   * The JVM's heap, direct and metaspace limits, and (for a TaskManager) every memory component as
   * {@code -D key=value} arguments of the entry point, which refuses to start without them.
   */
  public record Parameters(List<String> jvmOptions, List<String> dynamicProperties) {}

  /**
   * Runs the calculator on {@code configDir} in a JVM of the cluster's class path.
   *
   * @throws IllegalStateException with Flink's explanation when the memory settings do not add up
   */
  public static Parameters compute(ChildJvm jvm, Role role, Path configDir, Path toolsLogConfig) {
    ChildJvm.Result result = jvm.runToCompletion(
        List.of("-Xmx128m", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true", "-Dlog4j.configurationFile=file:" + toolsLogConfig),
        MEMORY_TOOL, List.of(role.command, "--configDir", configDir.toString()), TOOL_TIMEOUT);
    List<String> results = result.output().lines().filter(l -> l.startsWith(RESULT_PREFIX))
        .map(l -> l.substring(RESULT_PREFIX.length()).strip()).toList();
    if (result.exitCode() != 0 || results.size() < 2) {
      throw new IllegalStateException("Flink's memory calculator refused the " + role.name().toLowerCase(Locale.ROOT).replace('_', ' ')
          + " memory settings in " + configDir.resolve("config.yaml") + " (exit code " + result.exitCode() + "):\n" + result.output().strip());
    }
    // The second line holds "-D key=value" pairs; values never contain spaces.
    return new Parameters(split(results.get(0)), split(results.get(1)));
  }

  private static List<String> split(String line) {
    return line.isBlank() ? List.of() : Arrays.asList(line.trim().split("\\s+"));
  }
}
