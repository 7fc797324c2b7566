package dev.similarity.flink.local.internal;

import dev.similarity.kafka.local.internal.ChildJvm;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Starts JVMs on the cluster-lib class path. */
public final class ClusterJvm {

  /** Flink's memory calculator, the one its start-up scripts run before every JobManager and TaskManager. */
  private static final String MEMORY_TOOL = "org.apache.flink.runtime.util.bash.BashJavaUtils";
  private static final String RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:";
  private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);

  private final Path javaExecutable;
  private final String classpath;

  public ClusterJvm(Path javaHome, Path clusterLibDir) {
    this.javaExecutable = javaHome.resolve("bin").resolve("java");
    this.classpath = ClusterLibrary.classpath(clusterLibDir);
  }

  /** {@code java jvmOptions -cp <cluster-lib> mainClass args}. */
  public List<String> command(List<String> jvmOptions, String mainClass, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(javaExecutable.toString());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(classpath);
    command.add(mainClass);
    command.addAll(args);
    return command;
  }

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
   * What Flink derives from {@code *.memory.process.size}: the JVM's heap, direct and metaspace
   * limits, and (for a TaskManager) every memory component as {@code -D key=value} arguments of the
   * entry point, which refuses to start without them.
   */
  public record MemoryParameters(List<String> jvmOptions, List<String> dynamicProperties) {}

  /**
   * Runs Flink's memory calculator on {@code configDir}.
   *
   * @throws IllegalStateException with Flink's explanation when the memory settings do not add up
   */
  public MemoryParameters memoryParameters(Role role, Path configDir, Path toolsLogConfig) {
    List<String> command = command(
        List.of("-Xmx128m", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true", "-Dlog4j.configurationFile=file:" + toolsLogConfig),
        MEMORY_TOOL, List.of(role.command, "--configDir", configDir.toString()));
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(ChildJvm.devNull())).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + javaExecutable + " for " + MEMORY_TOOL, e);
    }
    CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
    int exitCode;
    try {
      if (!process.waitFor(TOOL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(MEMORY_TOOL + " " + role.command + " did not finish within " + TOOL_TIMEOUT);
      }
      exitCode = process.exitValue();
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + MEMORY_TOOL, e);
    }
    String text = output.join();
    List<String> results = text.lines().filter(l -> l.startsWith(RESULT_PREFIX)).map(l -> l.substring(RESULT_PREFIX.length()).strip()).toList();
    if (exitCode != 0 || results.size() < 2) {
      throw new IllegalStateException("Flink's memory calculator refused the " + role.name().toLowerCase().replace('_', ' ')
          + " memory settings in " + configDir.resolve("config.yaml") + " (exit code " + exitCode + "):\n" + text.strip());
    }
    // The second line holds "-D key=value" pairs; values never contain spaces.
    return new MemoryParameters(split(results.get(0)), split(results.get(1)));
  }

  private static List<String> split(String line) {
    return line.isBlank() ? List.of() : Arrays.asList(line.trim().split("\\s+"));
  }

  private static String readAll(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(output unreadable: " + e + ")";
    }
  }
}
