package dev.similarity.embedding.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorFlowNativesTest {

  @TempDir
  Path dir;

  @Test
  void folderWithoutManifestIsNotACompleteExtraction() throws Exception {
    Files.write(dir.resolve("libjnitensorflow.so"), new byte[10]);
    assertFalse(TensorFlowNatives.isComplete(dir));
  }

  @Test
  void manifestListingAShorterFileIsNotComplete() throws Exception {
    Files.write(dir.resolve("libjnitensorflow.so"), new byte[10]);
    Files.write(dir.resolve("libtensorflow_cc.so.2"), new byte[5]);
    Files.write(dir.resolve(TensorFlowNatives.MANIFEST),
        List.of("libjnitensorflow.so\t10", "libtensorflow_cc.so.2\t7"));
    assertFalse(TensorFlowNatives.isComplete(dir));
  }

  @Test
  void manifestMatchingEveryFileIsComplete() throws Exception {
    Files.write(dir.resolve("libjnitensorflow.so"), new byte[10]);
    Files.write(dir.resolve(TensorFlowNatives.MANIFEST), List.of("libjnitensorflow.so\t10"));
    assertTrue(TensorFlowNatives.isComplete(dir));
  }
}
