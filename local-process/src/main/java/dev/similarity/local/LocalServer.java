package dev.similarity.local;

import dev.similarity.local.LocalFiles.WorkDir;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The life of a local server whose processes are child JVMs and whose state lives in one folder
 * ({@code LocalKafkaBroker}, {@code LocalS3Server}, {@code LocalFlinkCluster}): started once, found
 * again by another process through its folder, stopped once, by {@link #close()} or (unless
 * detached) when this JVM exits; a temporary folder is deleted when it stops. A subclass launches
 * its processes and records their state; this class keeps the order of things. Every method of
 * either runs under the lock of {@code this}.
 */
public abstract class LocalServer implements AutoCloseable {

  private final String type;
  private final String server;
  private final String tag;
  private final Path requestedFolder;
  private final Duration shutdownTimeout;
  private final boolean detached;

  // Guarded by this.
  private WorkDir folder;
  private ShutdownHook shutdownHook;
  private boolean started;
  private boolean closed;

  /**
   * @param type the subclass's name, e.g. {@code LocalKafkaBroker}
   * @param server what it runs, after "a", e.g. {@code Kafka broker}
   * @param tag its script and log tag, e.g. {@code kafka-local}
   * @param requestedFolder the folder it keeps everything in; null: a temporary one, deleted when it stops
   */
  protected LocalServer(String type, String server, String tag, Path requestedFolder, LocalServerBuilder.Shared shared) {
    this.type = type;
    this.server = server;
    this.tag = tag;
    this.requestedFolder = requestedFolder == null ? null : requestedFolder.toAbsolutePath().normalize();
    this.shutdownTimeout = shared.shutdownTimeout();
    this.detached = shared.detached();
  }

  /** Makes this the handle of a server found running from {@code folder}: it is started, and close() stops it. */
  protected final synchronized void attachedTo(Path folder) {
    this.folder = new WorkDir(folder, false);
    this.started = true;
  }

  /**
   * Creates the folder, refuses to start a second server from it, runs {@link #launch()} and registers
   * the shutdown hook unless detached.
   *
   * @throws IllegalStateException if it was started or closed before, or cannot start; nothing is
   *     then left running and a temporary folder is deleted
   */
  protected final synchronized void startServer() {
    if (closed) throw new IllegalStateException("this " + type + " was closed; build a new one");
    if (started) throw new IllegalStateException("already started: " + this);
    started = true;
    try {
      folder = WorkDir.create(requestedFolder, tag + "-");
      useFolder(folder.path());
      Optional<? extends LocalServer> running = runningFrom(folder.path());
      if (running.isPresent()) {
        throw new IllegalStateException("a " + server + " started from " + folder.path() + " is already running (" + running.get()
            + "); stop it first (scripts/" + tag + " stop, or close() the " + type + " that started it)");
      }
      launch();
      if (!detached) shutdownHook = ShutdownHook.register(tag + "-shutdown " + folder.path(), () -> shutDown(false));
    } catch (IOException e) {
      shutDownAfterFailedStart();
      throw new UncheckedIOException("cannot start a " + server + " in " + folderText() + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      shutDownAfterFailedStart();
      throw e;
    }
  }

  /** The start's folder is known: {@code folder} exists now. */
  protected abstract void useFolder(Path folder);

  /** The server running from {@code folder}, as the subclass's {@code attach} finds it. */
  protected abstract Optional<? extends LocalServer> runningFrom(Path folder);

  /** Launches the processes and waits until they serve; records their state for {@code attach}. */
  protected abstract void launch() throws IOException;

  /** Every process to stop at close: started or attached, alive or not. */
  protected abstract List<ChildProcess> processes();

  /** Deletes the recorded state (pid files, ports), once the processes are stopped. */
  protected abstract void forgetState() throws IOException;

  /**
   * Stops every process (SIGTERM, so the server shuts down cleanly; SIGKILL after the shutdown
   * timeout), forgets the recorded state and deletes the folder if it was a temporary one. Safe to
   * call twice.
   *
   * @throws IllegalStateException if a process survives even SIGKILL
   */
  @Override
  public void close() {
    shutDown(true);
  }

  /** The folder; {@code name} says which in the error before the start, e.g. {@code data directory}. */
  protected final synchronized Path folder(String name) {
    if (folder == null) throw new IllegalStateException("no " + name + " yet: a temporary one is created by start()");
    return folder.path();
  }

  /** The folder in use, else the requested one; empty before a start that creates a temporary one. */
  protected final synchronized Optional<Path> knownFolder() {
    return folder != null ? Optional.of(folder.path()) : Optional.ofNullable(requestedFolder);
  }

  /** {@link #knownFolder()} for messages. */
  protected final String folderText() {
    return knownFolder().map(Path::toString).orElse("a temporary folder");
  }

  protected final synchronized boolean isClosed() {
    return closed;
  }

  protected final boolean detached() {
    return detached;
  }

  protected final String tag() {
    return tag;
  }

  private void shutDownAfterFailedStart() {
    try {
      shutDown(true);
    } catch (RuntimeException suppressed) {
      // the start failure is the error to report
    }
  }

  private synchronized void shutDown(boolean removeHook) {
    if (closed) return;
    closed = true;
    if (removeHook && shutdownHook != null) shutdownHook.remove();
    List<ChildProcess> processes = processes();
    try {
      ChildProcess.stopAll(processes, shutdownTimeout, tag);
    } finally {
      try {
        // Only the state of a server this handle ran or attached to; a refused start leaves a running server's alone.
        if (!processes.isEmpty()) forgetState();
        if (folder != null && folder.temporary()) LocalFiles.deleteRecursively(folder.path());
      } catch (IOException e) {
        System.err.println("[" + tag + "] could not clean up " + folderText() + ": " + e);
      }
    }
  }
}
