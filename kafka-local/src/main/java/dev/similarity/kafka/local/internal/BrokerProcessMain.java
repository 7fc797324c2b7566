package dev.similarity.kafka.local.internal;

import java.io.IOException;
import java.io.InputStream;

/**
 * Main class of the broker's JVM: runs {@code kafka.Kafka} and, when asked, exits as soon as its
 * standard input closes. The parent holds the other end of that pipe, so a parent that dies
 * without closing the broker (killed test fork, crashed IDE run) still takes the broker with it.
 * {@code System.exit} runs Kafka's own shutdown hook, so the broker still shuts down cleanly.
 *
 * <p>Arguments: {@code [--exit-when-stdin-closes] server.properties}
 */
public final class BrokerProcessMain {

  public static final String EXIT_WHEN_STDIN_CLOSES = "--exit-when-stdin-closes";

  private BrokerProcessMain() {}

  public static void main(String[] args) throws Throwable {
    boolean watchParent = args.length == 2 && args[0].equals(EXIT_WHEN_STDIN_CLOSES);
    String serverProperties = args[args.length - 1];
    if (watchParent) {
      Thread watchdog = new Thread(BrokerProcessMain::exitWhenStdinCloses, "kafka-local-parent-watchdog");
      watchdog.setDaemon(true);
      watchdog.start();
    }
    // Reflection: the broker jars are on this JVM's class path only, never on the parent's.
    try {
      Class.forName("kafka.Kafka").getMethod("main", String[].class).invoke(null, (Object) new String[] {serverProperties});
    } catch (java.lang.reflect.InvocationTargetException e) {
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
    System.err.println("[kafka-local] the process that started this broker is gone (stdin closed); shutting down");
    System.exit(0);
  }
}
