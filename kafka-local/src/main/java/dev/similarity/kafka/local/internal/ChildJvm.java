package dev.similarity.kafka.local.internal;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Starts JVMs on the broker-lib class path. */
public final class ChildJvm {

  private final Path javaExecutable;
  private final String classpath;

  public ChildJvm(Path javaHome, Path brokerLibDir) {
    this.javaExecutable = javaHome.resolve("bin").resolve("java");
    this.classpath = BrokerLibrary.classpath(brokerLibDir);
  }

  public Path javaExecutable() {
    return javaExecutable;
  }

  /** {@code java jvmOptions -cp <broker-lib> mainClass args}. */
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

  /** Exit code and combined output of a finished tool run. */
  public record Result(int exitCode, String output) {}

  /**
   * Runs a Kafka tool to completion; stdout and stderr together are returned.
   *
   * @throws IllegalStateException if it runs past {@code timeout} (it is killed)
   */
  public Result runToCompletion(Path logConfig, String mainClass, List<String> args, Duration timeout) {
    List<String> command = command(
        List.of("-Xmx256m", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true", "-Dlog4j2.configurationFile=" + logConfig),
        mainClass, args);
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(devNull())).start();
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

  public static File devNull() {
    return new File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
  }

  private static String readAll(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(output unreadable: " + e + ")";
    }
  }

  /** The last {@code lines} lines of a text file (read from its last 64 KiB), or a note saying why there are none. */
  public static String tail(Path file, int lines) {
    try (SeekableByteChannel channel = Files.newByteChannel(file)) {
      long size = channel.size();
      int length = (int) Math.min(size, 64 * 1024);
      ByteBuffer buffer = ByteBuffer.allocate(length);
      channel.position(size - length);
      while (buffer.hasRemaining() && channel.read(buffer) > 0) {
        // fill
      }
      List<String> all = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).lines().toList();
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (NoSuchFileException e) {
      return "(" + file + " does not exist)";
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }
}
