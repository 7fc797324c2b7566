package dev.similarity.s3.local.internal;

import java.io.IOException;
import java.io.InputStream;

/**
 * Main class of the server's JVM: runs S3Proxy ({@code org.gaul.s3proxy.Main --properties FILE})
 * and, when asked, exits as soon as its standard input closes. The parent holds the other end of
 * that pipe, so a parent that dies without closing the server (killed test fork) takes it along.
 *
 * <p>Arguments: {@code [--exit-when-stdin-closes] s3proxy.properties}
 */
public final class S3ProxyProcessMain {

  public static final String EXIT_WHEN_STDIN_CLOSES = "--exit-when-stdin-closes";

  private S3ProxyProcessMain() {}

  public static void main(String[] args) throws Throwable {
    boolean watchParent = args.length == 2 && args[0].equals(EXIT_WHEN_STDIN_CLOSES);
    String properties = args[args.length - 1];
    if (watchParent) {
      Thread watchdog = new Thread(S3ProxyProcessMain::exitWhenStdinCloses, "s3-local-parent-watchdog");
      watchdog.setDaemon(true);
      watchdog.start();
    }
    // Reflection: S3Proxy's jars are on this JVM's class path only, never on the parent's.
    try {
      Class.forName("org.gaul.s3proxy.Main").getMethod("main", String[].class)
          .invoke(null, (Object) new String[] {"--properties", properties});
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
    System.err.println("[s3-local] the process that started this server is gone (stdin closed); shutting down");
    System.exit(0);
  }
}
