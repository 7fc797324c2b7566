package dev.similarity.embedding.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Properties;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the TensorFlow natives that ship inside {@code org.tensorflow:tensorflow-core-native}
 * (a jar on the class path) loadable without any network access.
 *
 * <p>The native folder of that jar is extracted once to
 * {@code <cache>/tensorflow-<version>-<classifier>/} and reused afterwards. Then, before DJL's
 * TensorFlow engine or TF Java touch a native library, the installer sets:
 *
 * <ul>
 *   <li>{@code TENSORFLOW_LIBRARY_PATH} - DJL loads {@code libjnitensorflow.so} from there instead of
 *       looking for, or downloading, its own native bundle;
 *   <li>{@code org.bytedeco.javacpp.pathsFirst=true} - JavaCPP resolves the libraries from that
 *       folder instead of extracting the 600 MB jar a second time into {@code ~/.javacpp/cache};
 *   <li>{@code ai.djl.offline=true} - DJL never tries the network.
 * </ul>
 *
 * <p>A cached folder is used only when its manifest ({@value #MANIFEST}) is present and every
 * file it lists has the listed size; the manifest is written last, so an interrupted extraction
 * is never mistaken for a complete one.
 */
public final class TensorFlowNatives {

  /** System property (or environment variable VISUAL_SIMILARITY_CACHE) overriding the cache root. */
  public static final String CACHE_DIR_PROPERTY = "visual-similarity.cache-dir";

  static final String MANIFEST = ".complete";
  private static final String NATIVE_ROOT = "org/tensorflow/internal/c_api/";
  private static final String JNI_LIBRARY = "libjnitensorflow.so";
  // GPU natives first: when the gpu profile puts them on the class path they must win.
  private static final String[] PLATFORM_FOLDERS = {"linux-x86_64-gpu", "linux-x86_64"};
  private static final String VERSION_ENTRY =
      "META-INF/maven/org.tensorflow/tensorflow-core-native/pom.properties";

  private static final Logger LOG = LoggerFactory.getLogger(TensorFlowNatives.class);
  private static volatile Installation installed;

  private TensorFlowNatives() {}

  /** Where the natives were installed from and to. */
  public record Installation(Path libraryDir, String version, String classifier, boolean extracted) {
    /** Whether these natives were built with CUDA support. */
    public boolean gpuBuild() {
      return classifier.endsWith("-gpu");
    }
  }

  /**
   * Extracts the natives if needed and sets the system properties above. Idempotent and
   * thread-safe; cheap after the first call.
   *
   * @throws IllegalStateException if no tensorflow-core-native jar is on the class path
   */
  public static Installation install() {
    Installation current = installed;
    if (current != null) {
      return current;
    }
    synchronized (TensorFlowNatives.class) {
      if (installed == null) {
        installed = installFrom(cacheRoot());
      }
      return installed;
    }
  }

  /** The cache root: {@value #CACHE_DIR_PROPERTY}, VISUAL_SIMILARITY_CACHE, or ~/.cache/visual-similarity. */
  public static Path cacheRoot() {
    String configured = System.getProperty(CACHE_DIR_PROPERTY, System.getenv("VISUAL_SIMILARITY_CACHE"));
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured);
    }
    return Path.of(System.getProperty("user.home"), ".cache", "visual-similarity");
  }

  static Installation installFrom(Path cacheRoot) {
    NativeJar jar = locateNativeJar();
    Path target = cacheRoot.resolve("tensorflow-" + jar.version + "-" + jar.classifier);
    boolean extracted = false;
    if (!isComplete(target)) {
      extracted = extract(jar, cacheRoot, target);
    }
    String dir = target.toAbsolutePath().toString();
    System.setProperty("TENSORFLOW_LIBRARY_PATH", dir);
    System.setProperty("org.bytedeco.javacpp.pathsFirst", "true");
    System.setProperty("ai.djl.offline", "true");
    System.setProperty("ai.djl.default_engine", "TensorFlow");
    LOG.debug("TensorFlow natives {} ({}) ready in {}", jar.version, jar.classifier, dir);
    return new Installation(target.toAbsolutePath(), jar.version, jar.classifier, extracted);
  }

  private record NativeJar(Path file, String folder, String version, String classifier) {}

  private static NativeJar locateNativeJar() {
    ClassLoader loader = TensorFlowNatives.class.getClassLoader();
    for (String folder : PLATFORM_FOLDERS) {
      URL url = loader.getResource(NATIVE_ROOT + folder + "/" + JNI_LIBRARY);
      if (url == null) {
        continue;
      }
      if (!"jar".equals(url.getProtocol())) {
        throw new IllegalStateException("TensorFlow natives found at " + url
            + " but not inside a jar; put org.tensorflow:tensorflow-core-native on the class path as a jar");
      }
      try {
        JarURLConnection connection = (JarURLConnection) url.openConnection();
        Path file = Path.of(connection.getJarFileURL().toURI());
        String version = readVersion(file);
        return new NativeJar(file, NATIVE_ROOT + folder + "/", version, folder);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot open the TensorFlow native jar behind " + url, e);
      } catch (URISyntaxException e) {
        throw new IllegalStateException("unexpected jar location " + url, e);
      }
    }
    throw new IllegalStateException("no TensorFlow natives on the class path: add "
        + "org.tensorflow:tensorflow-core-native:1.0.0 with classifier linux-x86_64 "
        + "(or linux-x86_64-gpu with -Pgpu) to the dependencies");
  }

  private static String readVersion(Path jarFile) throws IOException {
    try (JarFile jar = new JarFile(jarFile.toFile())) {
      JarEntry entry = jar.getJarEntry(VERSION_ENTRY);
      if (entry == null) {
        return "unknown";
      }
      Properties properties = new Properties();
      try (InputStream in = jar.getInputStream(entry)) {
        properties.load(in);
      }
      return properties.getProperty("version", "unknown");
    }
  }

  static boolean isComplete(Path dir) {
    Path manifest = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(manifest)) {
      return false;
    }
    try {
      for (String line : Files.readAllLines(manifest)) {
        if (line.isBlank()) {
          continue;
        }
        int tab = line.lastIndexOf('\t');
        Path file = dir.resolve(line.substring(0, tab));
        long size = Long.parseLong(line.substring(tab + 1));
        if (!Files.isRegularFile(file) || Files.size(file) != size) {
          return false;
        }
      }
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  // One extraction at a time across JVMs (parallel test forks share the cache): a file lock
  // guards the check-extract-rename sequence.
  private static boolean extract(NativeJar jar, Path cacheRoot, Path target) {
    try {
      Files.createDirectories(cacheRoot);
      Path lockFile = cacheRoot.resolve(target.getFileName() + ".lock");
      try (FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock ignored = channel.lock()) {
        if (isComplete(target)) {
          return false;
        }
        long start = System.nanoTime();
        LOG.info("extracting TensorFlow natives {} from {} to {} (once)", jar.classifier, jar.file, target);
        Path staging = Files.createTempDirectory(cacheRoot, target.getFileName() + ".tmp");
        makeWorldReadable(staging);
        List<String> manifest = new ArrayList<>();
        try (JarFile jarFile = new JarFile(jar.file.toFile())) {
          Enumeration<JarEntry> entries = jarFile.entries();
          while (entries.hasMoreElements()) {
            JarEntry entry = entries.nextElement();
            if (entry.isDirectory() || !entry.getName().startsWith(jar.folder)) {
              continue;
            }
            String relative = entry.getName().substring(jar.folder.length());
            Path out = staging.resolve(relative).normalize();
            if (!out.startsWith(staging)) {
              throw new IOException("refusing jar entry outside the native folder: " + entry.getName());
            }
            Files.createDirectories(out.getParent());
            try (InputStream in = jarFile.getInputStream(entry)) {
              Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
            }
            manifest.add(relative + "\t" + Files.size(out));
          }
        }
        if (manifest.stream().noneMatch(line -> line.startsWith(JNI_LIBRARY + "\t"))) {
          throw new IOException(jar.file + " has no " + jar.folder + JNI_LIBRARY);
        }
        // The manifest is written last: its presence means every listed file is complete.
        Files.write(staging.resolve(MANIFEST), manifest);
        Folders.deleteRecursively(target);
        moveAtomically(staging, target);
        LOG.info("extracted {} files in {} ms", manifest.size(), (System.nanoTime() - start) / 1_000_000);
        return true;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract the TensorFlow natives to " + target
          + "; make the folder writable or set -D" + CACHE_DIR_PROPERTY + "=<dir>", e);
    }
  }

  // createTempDirectory makes the folder private (rwx------); the natives are not secret.
  private static void makeWorldReadable(Path dir) {
    try {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (IOException | UnsupportedOperationException e) {
      LOG.debug("cannot widen permissions of {}: {}", dir, e.toString());
    }
  }

  private static void moveAtomically(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
      Files.move(from, to);
    }
  }
}
