package dev.similarity.local;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A folder of a server's jars that a module's build copies out of the Maven repository ({@code
 * maven-dependency-plugin:copy-dependencies} of its {@code provided} dependencies), e.g. {@code
 * kafka-local/target/broker-lib}; a child JVM runs on it ({@link ChildJvm}).
 *
 * @param server the server in messages, e.g. {@code Kafka broker}
 * @param module the Maven module that builds the folder, e.g. {@code kafka-local}
 * @param folder its name under the module's {@code target/}, e.g. {@code broker-lib}
 * @param systemProperty a system property that names the folder instead, e.g. {@code kafka.local.lib}
 * @param builderSetting the builder setting that names it instead, e.g. {@code LocalKafkaBroker.Builder.brokerLibDir}
 * @param requiredJars file name prefixes of the jars without which the server cannot start, e.g. {@code kafka_2.13-}
 * @param contents what the folder holds, in the message when none is found
 * @param moduleClass a class of the module, whose location (target/classes or target/MODULE.jar) is the first place looked at
 */
public record JarFolder(String server, String module, String folder, String systemProperty, String builderSetting,
    List<String> requiredJars, String contents, Class<?> moduleClass) {

  public JarFolder {
    requiredJars = List.copyOf(requiredJars);
  }

  /**
   * Finds the folder: the {@link #systemProperty}; else next to the module's classes or jar when they
   * come from {@code target/}; else {@code MODULE/target/FOLDER} in the working directory or any
   * directory above it.
   *
   * @throws IllegalStateException saying how to build it when none is found or it lacks a required jar
   */
  public Path locate() {
    String configured = System.getProperty(systemProperty);
    if (configured != null && !configured.isBlank()) {
      return require(Path.of(configured), "system property " + systemProperty);
    }
    Optional<Path> beside = besideModuleClasses().filter(Files::isDirectory);
    if (beside.isPresent()) return require(beside.get(), "the directory next to " + module + "'s classes");
    Path relative = Path.of(module, "target", folder);
    Path workingDir = Path.of("").toAbsolutePath();
    for (Path dir = workingDir; dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(relative);
      if (Files.isDirectory(candidate)) return require(candidate, "the search from " + workingDir);
    }
    throw new IllegalStateException("no " + server + " jars found: looked for " + relative + " in " + workingDir
        + " and every directory above it. Build them with '" + buildCommand() + "' in the project root,"
        + " or point -D" + systemProperty + " (or " + builderSetting + ") at a directory holding " + contents);
  }

  /**
   * @param source where the folder came from, for the error message
   * @return the folder as an absolute path
   * @throws IllegalStateException if it lacks one of the {@link #requiredJars}
   */
  public Path require(Path dir, String source) {
    Path absolute = dir.toAbsolutePath().normalize();
    for (String prefix : requiredJars) {
      if (!hasJar(absolute, prefix)) {
        throw new IllegalStateException(server + " lib directory " + absolute + " (from " + source + ") holds no " + prefix
            + "*.jar; build it with '" + buildCommand() + "' in the project root");
      }
    }
    return absolute;
  }

  /** Where {@code type} was loaded from: a classes folder or a jar. */
  public static Path codeLocation(Class<?> type) {
    CodeSource source = type.getProtectionDomain().getCodeSource();
    try {
      return Path.of(source.getLocation().toURI()).toAbsolutePath();
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("cannot tell where " + type.getName() + " was loaded from (" + source + ")", e);
    }
  }

  private String buildCommand() {
    return "mvn -pl " + module + " install -DskipTests";
  }

  private Optional<Path> besideModuleClasses() {
    // .../MODULE/target/classes or .../MODULE/target/MODULE-*.jar -> .../MODULE/target/FOLDER
    Path own = codeLocation(moduleClass);
    Path parent = own.getParent();
    if (parent == null) return Optional.empty();
    if (Files.isDirectory(own)) return Optional.of(parent.resolve(folder));
    boolean inTarget = parent.getFileName() != null && parent.getFileName().toString().equals("target");
    return inTarget ? Optional.of(parent.resolve(folder)) : Optional.empty();
  }

  private static boolean hasJar(Path dir, String prefix) {
    if (!Files.isDirectory(dir)) return false;
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).anyMatch(n -> n.startsWith(prefix) && n.endsWith(".jar"));
    } catch (IOException e) {
      return false;
    }
  }
}
