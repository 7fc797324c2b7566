package dev.similarity.s3.local.internal;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.stream.Stream;

/** The directory of S3Proxy's jars that s3-local's build copies to {@code s3-local/target/s3proxy-lib}. */
public final class ProxyLibrary {

  public static final String LIB_DIR_PROPERTY = "s3.local.lib";
  private static final Path RELATIVE_TO_PROJECT = Path.of("s3-local", "target", "s3proxy-lib");

  private ProxyLibrary() {}

  /**
   * Finds the s3proxy-lib directory: the {@value #LIB_DIR_PROPERTY} system property; else next to
   * this module's classes or jar when they come from {@code target/}; else {@code
   * s3-local/target/s3proxy-lib} in the working directory or any directory above it.
   *
   * @throws IllegalStateException saying how to produce it when none is found
   */
  public static Path locate() {
    String configured = System.getProperty(LIB_DIR_PROPERTY);
    if (configured != null && !configured.isBlank()) {
      return requireProxyJars(Path.of(configured), "system property " + LIB_DIR_PROPERTY);
    }
    Path beside = besideOwnClasses();
    if (beside != null && Files.isDirectory(beside)) {
      return requireProxyJars(beside, "the directory next to s3-local's classes");
    }
    Path workingDir = Path.of("").toAbsolutePath();
    for (Path dir = workingDir; dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(RELATIVE_TO_PROJECT);
      if (Files.isDirectory(candidate)) return requireProxyJars(candidate, "the search from " + workingDir);
    }
    throw new IllegalStateException("no S3Proxy jars found: looked for " + RELATIVE_TO_PROJECT + " in " + workingDir
        + " and every directory above it. Build them with 'mvn -pl s3-local install -DskipTests' in the project root,"
        + " or point -D" + LIB_DIR_PROPERTY + " (or LocalS3Server.Builder.proxyLibDir) at a directory holding the s3proxy jar"
        + " and its dependencies");
  }

  /**
   * @param source where the directory came from, for the error message
   * @throws IllegalStateException if the directory lacks the s3proxy jar
   */
  public static Path requireProxyJars(Path dir, String source) {
    Path absolute = dir.toAbsolutePath().normalize();
    if (!hasJar(absolute, "s3proxy-")) {
      throw new IllegalStateException("S3Proxy lib directory " + absolute + " (from " + source + ") holds no s3proxy-*.jar;"
          + " build it with 'mvn -pl s3-local install -DskipTests' in the project root");
    }
    return absolute;
  }

  /** Class path of the server JVM: every jar of the lib plus this module's own classes (for {@link S3ProxyProcessMain}). */
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
    // .../s3-local/target/classes or .../s3-local/target/s3-local-*.jar -> .../s3-local/target/s3proxy-lib
    Path parent = own.getParent();
    if (parent == null) return null;
    if (Files.isDirectory(own)) return parent.resolve("s3proxy-lib");
    return parent.getFileName() != null && parent.getFileName().toString().equals("target") ? parent.resolve("s3proxy-lib") : null;
  }

  private static Path ownClassesLocation() {
    CodeSource source = ProxyLibrary.class.getProtectionDomain().getCodeSource();
    try {
      return Path.of(source.getLocation().toURI()).toAbsolutePath();
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("cannot tell where s3-local's classes were loaded from (" + source + ")", e);
    }
  }
}
