package dev.similarity.local;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;

/** The output files of child JVMs and the launchers' own notes in them. */
public final class LogFiles {

  private static final int TAIL_WINDOW_BYTES = 64 * 1024;
  private static final int SEARCH_WINDOW_BYTES = 16 * 1024 * 1024;

  /**
   * A log4j2 configuration for tools run to completion (Kafka's storage tool and kafka-topics, Flink's
   * memory calculator): warnings and errors only, on stderr, which {@link ChildJvm#runToCompletion} returns.
   */
  public static final String TOOLS_LOG4J2_PROPERTIES = """
      status = warn
      appender.err.type = Console
      appender.err.name = STDERR
      appender.err.target = SYSTEM_ERR
      appender.err.layout.type = PatternLayout
      appender.err.layout.pattern = [%d] %p %m (%c)%n
      rootLogger.level = WARN
      rootLogger.appenderRef.err.ref = STDERR
      """;

  private LogFiles() {}

  /** Appends {@code [instant] [tag] line}, e.g. the command line a launcher is about to run. */
  public static void append(Path file, String tag, String line) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Files.writeString(file, "[" + Instant.now() + "] [" + tag + "] " + line + "\n", StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  /** The file's size in bytes, 0 when it does not exist: where the output of the next start begins. */
  public static long size(Path file) throws IOException {
    return Files.exists(file) ? Files.size(file) : 0;
  }

  /** Whether {@code text} occurs in the file after byte {@code offset} (within the first 16 MiB after it). */
  public static boolean containsAfter(Path file, long offset, String text) throws IOException {
    try (SeekableByteChannel channel = Files.newByteChannel(file)) {
      long length = channel.size() - offset;
      if (length <= 0) return false;
      ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(length, SEARCH_WINDOW_BYTES));
      channel.position(offset);
      while (buffer.hasRemaining() && channel.read(buffer) > 0) {
        // fill
      }
      return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).contains(text);
    }
  }

  /** The last {@code lines} lines of a text file (read from its last 64 KiB), or a note saying why there are none. */
  public static String tail(Path file, int lines) {
    try (SeekableByteChannel channel = Files.newByteChannel(file)) {
      long size = channel.size();
      int length = (int) Math.min(size, TAIL_WINDOW_BYTES);
      ByteBuffer buffer = ByteBuffer.allocate(length);
      channel.position(size - length);
      while (buffer.hasRemaining() && channel.read(buffer) > 0) {
        // fill
      }
      List<String> all = new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8).lines().toList();
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (NoSuchFileException e) {
      return "(" + file + " does not exist)";
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }
}
