package dev.similarity.local.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;

/**
 * Main class of every server JVM (Kafka broker, S3Proxy, Flink JobManager and TaskManagers): runs the
 * server's own main class and, when asked, exits as soon as its standard input closes. The parent holds
 * the other end of that pipe, so a parent that dies without stopping the server (killed test fork,
 * crashed IDE run) still takes the server with it. {@code System.exit} runs the server's own shutdown
 * hooks, so it still stops cleanly.
 *
 * <p>Arguments: {@code [--exit-when-stdin-closes] mainClass args...}
 */
public final class ChildProcessMain {

  public static final String EXIT_WHEN_STDIN_CLOSES = "--exit-when-stdin-closes";

  private ChildProcessMain() {}

  public static void main(String[] args) throws Throwable {
    boolean watchParent = args.length > 0 && args[0].equals(EXIT_WHEN_STDIN_CLOSES);
    int first = watchParent ? 1 : 0;
    if (args.length <= first) {
      System.err.println("usage: ChildProcessMain [" + EXIT_WHEN_STDIN_CLOSES + "] mainClass args...");
      System.exit(2);
    }
    String mainClass = args[first];
    if (watchParent) {
      Thread watchdog = new Thread(() -> exitWhenStdinCloses(mainClass), "local-process-parent-watchdog");
      watchdog.setDaemon(true);
      watchdog.start();
    }
    // Reflection: the server's jars are on this JVM's class path only, never on the parent's.
    try {
      Class.forName(mainClass).getMethod("main", String[].class)
          .invoke(null, (Object) Arrays.copyOfRange(args, first + 1, args.length));
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void exitWhenStdinCloses(String mainClass) {
    try (InputStream in = System.in) {
      byte[] ignored = new byte[64];
      while (in.read(ignored) != -1) {
        // the parent never writes; we only wait for end of stream
      }
    } catch (IOException e) {
      // a broken pipe means the same as end of stream
    }
    System.err.println("[local-process] the process that started this " + mainClass + " is gone (stdin closed); shutting down");
    System.exit(0);
  }
}
