package dev.similarity.local;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * A server JVM this process started ({@link ChildJvm#start}) or found again through its recorded pid
 * ({@link #attached}). Stopping is SIGTERM, so the server's own shutdown hooks run, then SIGKILL
 * after a grace period.
 */
public final class ChildProcess {

  /** How long a process may take to disappear after SIGKILL before we give up on it. */
  static final Duration AFTER_SIGKILL = Duration.ofSeconds(10);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(100);

  private final String name;
  private final ProcessHandle handle;
  /** Null when attached: only the JVM that started a process holds its stdin pipe and exit code. */
  private final Process process;

  private ChildProcess(String name, ProcessHandle handle, Process process) {
    this.name = name;
    this.handle = handle;
    this.process = process;
  }

  /** A process this JVM started; keeping this object keeps the child's stdin pipe (its parent watchdog) open. */
  public static ChildProcess started(String name, Process process) {
    return new ChildProcess(name, process.toHandle(), process);
  }

  /** A process another JVM started, e.g. a detached server found through its pid file. */
  public static ChildProcess attached(String name, ProcessHandle handle) {
    return new ChildProcess(name, handle, null);
  }

  /** What the launcher calls it in messages and files, e.g. {@code broker} or {@code taskmanager-1}. */
  public String name() {
    return name;
  }

  public long pid() {
    return handle.pid();
  }

  public boolean isAlive() {
    return handle.isAlive();
  }

  /**
   * The live process with {@code pid} if it is still the server that recorded it: its command line
   * names {@code mark} (a file only that server's command line holds), or, where the system hides
   * command lines, {@code serving} holds. A pid recycled after the server died is not it.
   */
  public static Optional<ProcessHandle> findRunning(long pid, String mark, BooleanSupplier serving) {
    return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
        .filter(h -> h.info().commandLine().map(commandLine -> commandLine.contains(mark)).orElseGet(serving::getAsBoolean));
  }

  /** {@code " with code N"} once a started process has exited, else {@code ""} (an attached process's code is unknown). */
  public String exitCodeText() {
    if (process == null) return "";
    try {
      return " with code " + process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  /**
   * Polls {@code ready} until it holds.
   *
   * @param what the server in messages, e.g. {@code the Kafka broker}
   * @param readiness what {@code ready} checks, e.g. {@code accept connections on 127.0.0.1:9000}
   * @param log the process's output, whose last lines each error quotes
   * @throws IllegalStateException if the process exits first or {@code timeout} passes
   */
  public void awaitReady(String what, String readiness, BooleanSupplier ready, Duration timeout, Path log) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (!isAlive()) {
        throw new IllegalStateException(what + " exited" + exitCodeText() + " while starting; last lines of " + log + ":\n"
            + LogFiles.tail(log, 40));
      }
      if (ready.getAsBoolean()) return;
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(what + " did not " + readiness + " within " + timeout
            + "; raise startupTimeout if the machine is busy. Last lines of " + log + ":\n" + LogFiles.tail(log, 40));
      }
      sleep(POLL_INTERVAL, "waiting for " + what + " to start");
    }
  }

  /**
   * SIGKILL, as a crashed machine: no shutdown hook runs.
   *
   * @throws IllegalStateException if the process is still there 10 s later
   */
  public void kill() {
    handle.destroyForcibly();
    if (!awaitExit(handle, AFTER_SIGKILL)) {
      throw new IllegalStateException(name + " pid " + pid() + " survived SIGKILL; stop it by hand");
    }
  }

  /**
   * Stops {@code processes} together: SIGTERM to all at once, then SIGKILL to each one still running
   * when {@code grace} has passed (noted on stderr with {@code [tag]}).
   *
   * @throws IllegalStateException naming every process that survived SIGKILL
   */
  public static void stopAll(List<ChildProcess> processes, Duration grace, String tag) {
    List<ChildProcess> alive = processes.stream().filter(ChildProcess::isAlive).toList();
    alive.forEach(p -> p.handle.destroy());
    long deadline = System.nanoTime() + grace.toNanos();
    List<String> survivors = new ArrayList<>();
    for (ChildProcess child : alive) {
      if (awaitExit(child.handle, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) continue;
      System.err.println("[" + tag + "] " + child.name + " pid " + child.pid() + " ignored SIGTERM for " + grace + "; killing it");
      child.handle.destroyForcibly();
      if (!awaitExit(child.handle, AFTER_SIGKILL)) survivors.add(child.name + " pid " + child.pid());
    }
    if (!survivors.isEmpty()) {
      throw new IllegalStateException("processes survived SIGKILL: " + survivors + "; stop them by hand");
    }
  }

  /** {@link #stopAll} of this one process. */
  public void stop(Duration grace, String tag) {
    stopAll(List.of(this), grace, tag);
  }

  @Override
  public String toString() {
    return name + " pid " + pid();
  }

  private static boolean awaitExit(ProcessHandle handle, Duration timeout) {
    try {
      handle.onExit().get(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException | ExecutionException e) {
      return !handle.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !handle.isAlive();
    }
  }

  static void sleep(Duration duration, String what) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while " + what, e);
    }
  }
}
