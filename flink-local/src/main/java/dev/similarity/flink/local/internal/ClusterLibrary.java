package dev.similarity.flink.local.internal;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.List;
import java.util.stream.Stream;

/**
 * The directory of Flink cluster jars that flink-local's build copies to
 * {@code flink-local/target/cluster-lib}: flink-runtime, the web UI, the RPC system, RocksDB, the
 * Prometheus reporter, log4j. A job's connectors and libraries belong in its jar, not here.
 */
public final class ClusterLibrary {

  public static final String LIB_DIR_PROPERTY = "flink.local.lib";
  private static final Path RELATIVE_TO_PROJECT = Path.of("flink-local", "target", "cluster-lib");
  /** Jars without which the entry points or the web UI cannot start. */
  private static final List<String> REQUIRED_PREFIXES =
      List.of("flink-runtime-2", "flink-runtime-web-", "flink-rpc-akka-loader-", "flink-clients-");

  /** The plugin's folder name under a plugins directory, as in Flink's distribution. */
  public static final String S3_PLUGIN = "s3-fs-presto";

  private ClusterLibrary() {}

  /**
   * Finds the cluster-lib directory: the {@value #LIB_DIR_PROPERTY} system property; else next to
   * this module's classes or jar when they come from {@code target/}; else
   * {@code flink-local/target/cluster-lib} in the working directory or any directory above it.
   *
   * @throws IllegalStateException saying how to produce it when none is found
   */
  public static Path locate() {
    String configured = System.getProperty(LIB_DIR_PROPERTY);
    if (configured != null && !configured.isBlank()) {
      return requireClusterJars(Path.of(configured), "system property " + LIB_DIR_PROPERTY);
    }
    Path beside = besideOwnClasses();
    if (beside != null && Files.isDirectory(beside)) {
      return requireClusterJars(beside, "the directory next to flink-local's classes");
    }
    Path workingDir = Path.of("").toAbsolutePath();
    for (Path dir = workingDir; dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(RELATIVE_TO_PROJECT);
      if (Files.isDirectory(candidate)) return requireClusterJars(candidate, "the search from " + workingDir);
    }
    throw new IllegalStateException("no Flink cluster jars found: looked for " + RELATIVE_TO_PROJECT + " in " + workingDir
        + " and every directory above it. Build them with 'mvn -pl flink-local install -DskipTests' in the project root,"
        + " or point -D" + LIB_DIR_PROPERTY + " (or LocalFlinkCluster.Builder.clusterLibDir) at a directory holding"
        + " flink-runtime, flink-runtime-web, flink-rpc-akka-loader and flink-clients jars");
  }

  /**
   * @param source where the directory came from, for the error message
   * @throws IllegalStateException if the directory lacks one of the jars the entry points need
   */
  public static Path requireClusterJars(Path dir, String source) {
    Path absolute = dir.toAbsolutePath().normalize();
    for (String prefix : REQUIRED_PREFIXES) {
      if (!hasJar(absolute, prefix)) {
        throw new IllegalStateException("cluster lib directory " + absolute + " (from " + source + ") holds no " + prefix
            + "*.jar; build it with 'mvn -pl flink-local install -DskipTests' in the project root");
      }
    }
    return absolute;
  }

  /**
   * The jar of Flink's S3 file system plugin the build copies next to the cluster lib ({@code
   * flink-local/target/plugins/s3-fs-presto/flink-s3-fs-presto-*.jar}), if there is one.
   */
  public static java.util.Optional<Path> s3Plugin(Path clusterLibDir) {
    Path dir = clusterLibDir.toAbsolutePath().normalize().resolveSibling("plugins").resolve(S3_PLUGIN);
    if (!Files.isDirectory(dir)) return java.util.Optional.empty();
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().startsWith("flink-s3-fs-presto-") && p.toString().endsWith(".jar")).findFirst();
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
  }

  /** Class path of a cluster JVM: every jar of the cluster lib plus this module's own classes (for {@link FlinkProcessMain}). */
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
    // .../flink-local/target/classes or .../flink-local/target/flink-local-*.jar -> .../flink-local/target/cluster-lib
    Path parent = own.getParent();
    if (parent == null) return null;
    if (Files.isDirectory(own)) return parent.resolve("cluster-lib");
    return parent.getFileName() != null && parent.getFileName().toString().equals("target") ? parent.resolve("cluster-lib") : null;
  }

  private static Path ownClassesLocation() {
    CodeSource source = ClusterLibrary.class.getProtectionDomain().getCodeSource();
    try {
      return Path.of(source.getLocation().toURI()).toAbsolutePath();
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("cannot tell where flink-local's classes were loaded from (" + source + ")", e);
    }
  }
}
