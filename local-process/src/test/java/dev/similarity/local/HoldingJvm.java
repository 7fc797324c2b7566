package dev.similarity.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A JVM on this test's class path that starts a server, prints {@code READY pid...} and waits to be
 * killed: the parent whose death its servers must not outlive.
 *
 * @param ready the words after {@code READY}, e.g. the servers' pids
 */
public record HoldingJvm(Process process, List<String> ready) {

  /**
   * Runs {@code mainClass args} and waits for its {@code READY} line.
   *
   * @throws IllegalStateException with its output if it ends before saying READY
   */
  public static HoldingJvm start(Class<?> mainClass, String... args) throws IOException {
    List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), mainClass.getName()));
    command.addAll(Arrays.asList(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    String line;
    while ((line = lines.readLine()) != null && !line.startsWith("READY ")) seen.append(line).append('\n');
    if (line == null) {
      process.destroyForcibly();
      throw new IllegalStateException("the holding JVM ended before its server was ready:\n" + seen);
    }
    return new HoldingJvm(process, List.of(line.substring("READY ".length()).trim().split(" ")));
  }

  /** SIGKILL: no shutdown hook runs, as when a test fork or an IDE run is killed. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }
}
