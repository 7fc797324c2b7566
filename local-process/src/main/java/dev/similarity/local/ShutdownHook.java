package dev.similarity.local;

/** A JVM shutdown hook that stops a child process tree when the JVM that started it exits normally. */
public final class ShutdownHook {

  private final Thread thread;

  private ShutdownHook(Thread thread) {
    this.thread = thread;
  }

  /** Registers {@code action} to run at JVM exit in a thread named {@code name}. */
  public static ShutdownHook register(String name, Runnable action) {
    Thread thread = new Thread(action, name);
    Runtime.getRuntime().addShutdownHook(thread);
    return new ShutdownHook(thread);
  }

  /** Unregisters the hook; when the JVM is already exiting the hook runs (or ran) anyway, which callers must tolerate. */
  public void remove() {
    try {
      Runtime.getRuntime().removeShutdownHook(thread);
    } catch (IllegalStateException alreadyShuttingDown) {
      // the hook is running or about to; callers make their stop idempotent
    }
  }
}
