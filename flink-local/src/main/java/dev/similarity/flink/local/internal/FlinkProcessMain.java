package dev.similarity.flink.local.internal;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;

/**
 * Main class of every cluster JVM: runs a Flink entry point ({@code StandaloneSessionClusterEntrypoint},
 * {@code TaskManagerRunner}) and, when asked, exits as soon as its standard input closes. The parent
 * holds the other end of that pipe, so a parent that dies without stopping the cluster (killed test
 * fork, crashed IDE run) still takes the cluster with it. {@code System.exit} runs Flink's own
 * shutdown hooks, so the process still stops cleanly.
 *
 * <p>Arguments: {@code [--exit-when-stdin-closes] entryPointClass entryPointArgs...}
 */
public final class FlinkProcessMain {

  public static final String EXIT_WHEN_STDIN_CLOSES = "--exit-when-stdin-closes";

  private FlinkProcessMain() {}

  public static void main(String[] args) throws Throwable {
    boolean watchParent = args.length > 0 && args[0].equals(EXIT_WHEN_STDIN_CLOSES);
    int first = watchParent ? 1 : 0;
    if (args.length <= first) {
      System.err.println("usage: FlinkProcessMain [" + EXIT_WHEN_STDIN_CLOSES + "] entryPointClass args...");
      System.exit(2);
    }
    if (watchParent) {
      Thread watchdog = new Thread(FlinkProcessMain::exitWhenStdinCloses, "flink-local-parent-watchdog");
      watchdog.setDaemon(true);
      watchdog.start();
    }
    // Reflection: the Flink jars are on this JVM's class path only, never on the parent's.
    try {
      Class.forName(args[first]).getMethod("main", String[].class)
          .invoke(null, (Object) Arrays.copyOfRange(args, first + 1, args.length));
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void exitWhenStdinCloses() {
    try (InputStream in = System.in) {
      byte[] ignored = new byte[64];
      while (in.read(ignored) != -1) {
        // the parent never writes; we only wait for end of stream
      }
    } catch (IOException e) {
      // a broken pipe means the same as end of stream
    }
    System.err.println("[flink-local] the process that started this cluster is gone (stdin closed); shutting down");
    System.exit(0);
  }
}
