package dev.similarity.local;

import dev.similarity.local.internal.ChildProcessMain;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Starts JVMs of one Java installation on one class path: a folder of jars ({@link JarFolder})
 * plus this module's classes, which hold the servers' launcher ({@link ChildProcessMain}). Nothing
 * of that class path meets the caller's.
 */
public final class ChildJvm {

  private static final Path SETSID = Path.of("/usr/bin/setsid");

  private final Path javaExecutable;
  private final String classpath;

  /** @param libDir a folder of jars, e.g. {@code kafka-local/target/broker-lib} ({@link JarFolder#locate()}) */
  public ChildJvm(Path javaHome, Path libDir) {
    this.javaExecutable = javaHome.resolve("bin").resolve("java");
    this.classpath = libDir.resolve("*") + File.pathSeparator + ownLocation();
  }

  /** {@code java jvmOptions -cp <lib>/*:<local-process> mainClass args}, for a run to completion. */
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

  /**
   * The command line of a server JVM: {@code mainClass} run by {@link ChildProcessMain}, which ends
   * the server when this JVM dies (its stdin closes) unless {@code detached}. A detached server
   * runs in its own session ({@code setsid}), so closing the terminal does not hang it up.
   */
  public List<String> serverCommand(List<String> jvmOptions, String mainClass, List<String> args, boolean detached) {
    List<String> mainArgs = new ArrayList<>();
    if (!detached) mainArgs.add(ChildProcessMain.EXIT_WHEN_STDIN_CLOSES);
    mainArgs.add(mainClass);
    mainArgs.addAll(args);
    List<String> command = new ArrayList<>(command(jvmOptions, ChildProcessMain.class.getName(), mainArgs));
    if (detached && Files.isExecutable(SETSID)) command.add(0, SETSID.toString());
    return command;
  }

  /**
   * Starts a {@link #serverCommand} in {@code workingDir}, stdout and stderr appended to {@code output}.
   * A detached server reads its stdin from /dev/null; an attached one from a pipe this JVM holds.
   */
  public static ChildProcess start(String name, List<String> command, Path workingDir, Path output, boolean detached,
      Map<String, String> environment) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(workingDir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
    builder.environment().putAll(environment);
    if (detached) builder.redirectInput(ProcessBuilder.Redirect.from(devNull()));
    return ChildProcess.started(name, builder.start());
  }

  /** Exit code and combined output of a finished run. */
  public record Result(int exitCode, String output) {}

  /**
   * Runs {@code mainClass} to completion (a tool: Kafka's storage tool, Flink's memory calculator);
   * stdout and stderr together are returned.
   *
   * @throws IllegalStateException if it runs past {@code timeout} (it is killed), with its output so far
   */
  public Result runToCompletion(List<String> jvmOptions, String mainClass, List<String> args, Duration timeout) {
    Process process;
    try {
      process = new ProcessBuilder(command(jvmOptions, mainClass, args)).redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(devNull())).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + javaExecutable + " for " + mainClass, e);
    }
    CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(mainClass + " " + String.join(" ", args) + " did not finish within " + timeout
            + "; output so far:\n" + output.getNow(""));
      }
      return new Result(process.exitValue(), output.join());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + mainClass, e);
    }
  }

  static File devNull() {
    return new File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
  }

  private static String readAll(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(output unreadable: " + e + ")";
    }
  }

  /** Where {@link ChildProcessMain} was loaded from: local-process's classes folder or jar. */
  static Path ownLocation() {
    return JarFolder.codeLocation(ChildProcessMain.class);
  }
}
