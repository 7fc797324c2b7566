package dev.similarity.local;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;
import java.util.stream.Stream;

/** Files of a local server's folder: configuration and state written whole or not at all, read back leniently. */
public final class LocalFiles {

  private LocalFiles() {}

  /**
   * Replaces {@code file} with {@code content} through a rename, so a reader (another CLI run, the
   * server itself) sees the old or the new file, never half of one. Creates the parent folders.
   */
  public static void writeAtomically(Path file, String content) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temp, content, StandardCharsets.UTF_8);
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** {@code key=value} lines in the given order under a {@code # comment} line, written atomically. */
  public static void writeProperties(Path file, String comment, Map<String, String> entries) throws IOException {
    StringBuilder out = new StringBuilder("# ").append(comment).append('\n');
    entries.forEach((key, value) -> out.append(key).append('=').append(value.replace("\\", "\\\\")).append('\n'));
    writeAtomically(file, out.toString());
  }

  /** The properties in {@code file}; empty when it is absent or unreadable. */
  public static Optional<Properties> readProperties(Path file) {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(in);
      return Optional.of(properties);
    } catch (IOException | IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /**
   * What {@code parse} makes of the properties in {@code file}; empty when the file is absent,
   * unreadable or damaged ({@code parse} throws, e.g. a missing key or a pid that is no number).
   */
  public static <T> Optional<T> readProperties(Path file, Function<Properties, T> parse) {
    try {
      return readProperties(file).map(parse);
    } catch (RuntimeException damaged) {
      return Optional.empty();
    }
  }

  /** Writes {@code pid} alone on a line, for people and shell scripts ({@code kill "$(cat broker.pid)"}). */
  public static void writePid(Path pidFile, long pid) throws IOException {
    writeAtomically(pidFile, pid + "\n");
  }

  /** Deletes {@code root} and everything under it; nothing happens when it does not exist. */
  public static void deleteRecursively(Path root) throws IOException {
    if (root == null || !Files.exists(root)) return;
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  /**
   * The folder a server keeps everything in.
   *
   * @param temporary whether it was created for this run only, and is deleted when the server stops
   */
  public record WorkDir(Path path, boolean temporary) {

    /** {@code requested} (created if missing), or a new temporary folder named {@code tempPrefix...} when it is null. */
    public static WorkDir create(Path requested, String tempPrefix) throws IOException {
      return requested == null
          ? new WorkDir(Files.createTempDirectory(tempPrefix), true)
          : new WorkDir(Files.createDirectories(requested), false);
    }
  }
}
