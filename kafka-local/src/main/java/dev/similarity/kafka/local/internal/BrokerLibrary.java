package dev.similarity.kafka.local.internal;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.stream.Stream;

/** The directory of Kafka broker jars that kafka-local's build copies to {@code kafka-local/target/broker-lib}. */
public final class BrokerLibrary {

  public static final String LIB_DIR_PROPERTY = "kafka.local.lib";
  private static final Path RELATIVE_TO_PROJECT = Path.of("kafka-local", "target", "broker-lib");

  private BrokerLibrary() {}

  /**
   * Finds the broker-lib directory: the {@value #LIB_DIR_PROPERTY} system property; else next to
   * this module's classes when they come from {@code target/classes}; else
   * {@code kafka-local/target/broker-lib} in the working directory or any directory above it.
   *
   * @throws IllegalStateException saying how to produce it when none is found
   */
  public static Path locate() {
    String configured = System.getProperty(LIB_DIR_PROPERTY);
    if (configured != null && !configured.isBlank()) {
      return requireBrokerJars(Path.of(configured), "system property " + LIB_DIR_PROPERTY);
    }
    Path besideClasses = besideOwnClasses();
    if (besideClasses != null && Files.isDirectory(besideClasses)) {
      return requireBrokerJars(besideClasses, "the directory next to kafka-local's classes");
    }
    Path workingDir = Path.of("").toAbsolutePath();
    for (Path dir = workingDir; dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(RELATIVE_TO_PROJECT);
      if (Files.isDirectory(candidate)) return requireBrokerJars(candidate, "the search from " + workingDir);
    }
    throw new IllegalStateException("no Kafka broker jars found: looked for " + RELATIVE_TO_PROJECT + " in " + workingDir
        + " and every directory above it. Build them with 'mvn -pl kafka-local install -DskipTests' in the project root,"
        + " or point -D" + LIB_DIR_PROPERTY + " (or LocalKafkaBroker.Builder.brokerLibDir) at a directory holding kafka_2.13 and kafka-tools jars");
  }

  /**
   * @param source where the directory came from, for the error message
   * @throws IllegalStateException if the directory lacks the broker or tools jar
   */
  public static Path requireBrokerJars(Path dir, String source) {
    Path absolute = dir.toAbsolutePath().normalize();
    if (!hasJar(absolute, "kafka_2.13-") || !hasJar(absolute, "kafka-tools-")) {
      throw new IllegalStateException("broker lib directory " + absolute + " (from " + source + ") holds no kafka_2.13-*.jar"
          + " and kafka-tools-*.jar; build it with 'mvn -pl kafka-local install -DskipTests' in the project root");
    }
    return absolute;
  }

  /** Class path of a broker or tool JVM: every jar of the broker lib plus this module's own classes. */
  public static String classpath(Path libDir) {
    return libDir.resolve("*") + File.pathSeparator + ownClassesLocation();
  }

  private static boolean hasJar(Path dir, String prefix) {
    if (!Files.isDirectory(dir)) return false;
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).anyMatch(n -> n.startsWith(prefix) && n.endsWith(".jar"));
    } catch (IOException e) {
      return false;
    }
  }

  private static Path besideOwnClasses() {
    Path own = ownClassesLocation();
    // .../kafka-local/target/classes -> .../kafka-local/target/broker-lib
    if (Files.isDirectory(own) && own.getParent() != null) return own.getParent().resolve("broker-lib");
    return null;
  }

  private static Path ownClassesLocation() {
    CodeSource source = BrokerLibrary.class.getProtectionDomain().getCodeSource();
    try {
      return Path.of(source.getLocation().toURI()).toAbsolutePath();
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("cannot tell where kafka-local's classes were loaded from (" + source + ")", e);
    }
  }
}
