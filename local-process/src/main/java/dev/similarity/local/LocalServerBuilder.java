package dev.similarity.local;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The settings every local server's builder shares ({@code LocalKafkaBroker.Builder}, {@code
 * LocalS3Server.Builder}, {@code LocalFlinkCluster.Builder}): the Java that runs it, how long its
 * start and stop may take, and whether it outlives this JVM. A subclass checks them with {@link
 * #checkShared} in its {@code build()}, which refuses bad values naming the setting to fix.
 *
 * @param <B> the concrete builder, which every setter returns
 */
public abstract class LocalServerBuilder<B extends LocalServerBuilder<B>> {

  private static final Pattern JVM_SIZE = Pattern.compile("[1-9][0-9]*[kKmMgG]?");

  private Path javaHome;
  private Duration startupTimeout;
  private Duration shutdownTimeout;
  private boolean detached;

  /** @param startupTimeout the server's default, e.g. 90 s; @param shutdownTimeout the server's default, e.g. 30 s */
  protected LocalServerBuilder(Duration startupTimeout, Duration shutdownTimeout) {
    this.startupTimeout = startupTimeout;
    this.shutdownTimeout = shutdownTimeout;
  }

  /** The Java installation (21 or newer) that runs the server. Default: the one running this code. */
  public B javaHome(Path javaHome) {
    this.javaHome = javaHome;
    return self();
  }

  /** How long start() waits until the server is ready. Default: the server's {@code DEFAULT_STARTUP_TIMEOUT}. */
  public B startupTimeout(Duration startupTimeout) {
    this.startupTimeout = startupTimeout;
    return self();
  }

  /** How long close() waits after SIGTERM before SIGKILL. Default: the server's {@code DEFAULT_SHUTDOWN_TIMEOUT}. */
  public B shutdownTimeout(Duration shutdownTimeout) {
    this.shutdownTimeout = shutdownTimeout;
    return self();
  }

  /**
   * Whether the server outlives this JVM: no shutdown hook, no parent watchdog, its own session.
   * Find it again with the server's {@code attach} of its folder, which must then be set.
   */
  public B detached(boolean detached) {
    this.detached = detached;
    return self();
  }

  /**
   * The settings of this class as they stand, for the server's constructor.
   *
   * @param javaHome the Java installation that runs the server: the one set, else the one running this code
   */
  public record Shared(Path javaHome, Duration startupTimeout, Duration shutdownTimeout, boolean detached) {}

  /** The settings of this class as they stand, unchecked (a handle attached to a running server needs no check). */
  public Shared shared() {
    return new Shared(javaHome != null ? javaHome : Path.of(System.getProperty("java.home")), startupTimeout, shutdownTimeout, detached);
  }

  /**
   * Checks the settings of this class.
   *
   * @param folderSetting the setting of the server's folder, e.g. {@code dataDir}
   * @param folder its value, null when not set
   * @throws IllegalArgumentException naming the setting to fix
   */
  protected Shared checkShared(String folderSetting, Path folder) {
    checkPositive("startupTimeout", startupTimeout);
    checkPositive("shutdownTimeout", shutdownTimeout);
    if (detached && folder == null) {
      throw new IllegalArgumentException("detached(true) needs " + folderSetting + "(...): a detached server is found again"
          + " through its folder");
    }
    Shared shared = shared();
    if (!Files.isExecutable(shared.javaHome().resolve("bin").resolve("java"))) {
      throw new IllegalArgumentException("javaHome " + shared.javaHome() + " has no executable bin/java;"
          + " point javaHome at a Java 21+ installation");
    }
    return shared;
  }

  /** @throws IllegalArgumentException unless {@code value} is 0 (a free port) or 1-65535 */
  protected static void checkPort(String setting, int value) {
    if (value < 0 || value > 65_535) {
      throw new IllegalArgumentException(setting + " is " + value + "; use 1-65535, or 0 for a free port");
    }
  }

  /** @throws IllegalArgumentException unless {@code value} is a JVM size such as {@code 512m}, for -Xmx */
  protected static void checkJvmSize(String setting, String value, String examples) {
    if (value == null || !JVM_SIZE.matcher(value).matches()) {
      throw new IllegalArgumentException(setting + " is '" + value + "'; give a JVM size such as " + examples + " (it becomes -Xmx)");
    }
  }

  protected static void checkPositive(String setting, Duration value) {
    Objects.requireNonNull(value, setting);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(setting + " is " + value + "; it must be positive");
    }
  }

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }
}
