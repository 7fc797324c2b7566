package dev.similarity.embedding.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.embedding.CommittedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loads the model and embeds an image in a fresh JVM that records every network destination,
 * and checks that TensorFlow ran from the natives extracted out of the class-path jar: nothing
 * downloaded, nothing extracted anywhere else.
 */
class OfflineNativesIT {

  @Test
  void loadingAndEmbeddingNeverTouchTheNetwork(@TempDir Path work) throws Exception {
    Path djlCache = Files.createDirectories(work.resolve("djl-cache"));
    Path javacppCache = Files.createDirectories(work.resolve("javacpp-cache"));
    Path reportFile = work.resolve("report.txt");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED",
        "-DDJL_CACHE_DIR=" + djlCache,
        "-DENGINE_CACHE_DIR=" + djlCache,
        "-Dorg.bytedeco.javacpp.cachedir=" + javacppCache,
        "-cp", System.getProperty("java.class.path"),
        OfflineProbe.class.getName(), CommittedModel.dir().toString(), reportFile.toString()));
    Process probe = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(work.resolve("probe.log").toFile()).start();
    assertTrue(probe.waitFor(120, TimeUnit.SECONDS), "the probe JVM did not finish in 120 s");
    assertEquals(0, probe.exitValue(), Files.readString(work.resolve("probe.log")));

    List<String> report = Files.readAllLines(reportFile);
    assertTrue(report.contains("dimension=128"), String.join("\n", report));
    assertTrue(report.contains("offline=true"), String.join("\n", report));
    assertTrue(report.stream().noneMatch(l -> l.startsWith("network=")),
        "the JVM tried the network:\n" + String.join("\n", report));

    String libraryPath = report.stream().filter(l -> l.startsWith("library_path=")).findFirst().orElseThrow()
        .substring("library_path=".length());
    List<String> mapped = report.stream().filter(l -> l.startsWith("mapped=")).map(l -> l.substring(7)).toList();
    assertTrue(mapped.stream().anyMatch(l -> l.endsWith("libtensorflow_cc.so.2")), String.join("\n", report));
    for (String library : mapped) {
      assertTrue(library.startsWith(libraryPath + "/"), library + " was not loaded from " + libraryPath);
    }
    assertFalse(hasFiles(javacppCache), "JavaCPP extracted natives into its own cache");
    assertFalse(hasFiles(djlCache), "DJL downloaded or extracted into its cache");
  }

  private static boolean hasFiles(Path dir) throws Exception {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.anyMatch(Files::isRegularFile);
    }
  }
}
