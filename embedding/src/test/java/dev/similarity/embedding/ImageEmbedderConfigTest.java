package dev.similarity.embedding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageEmbedderConfigTest {

  @TempDir
  Path model;

  @BeforeEach
  void fakeModelFolder() throws Exception {
    Files.write(model.resolve("saved_model.pb"), new byte[] {0});
    Files.writeString(model.resolve("model.json"), "{}");
  }

  @Test
  void defaultsToCpuAndSixteenMegapixels() {
    ImageEmbedderConfig config = ImageEmbedderConfig.builder().modelDir(model).build();
    assertEquals(DeviceSelection.CPU, config.device());
    assertEquals(4096L * 4096L, config.maxImagePixels());
    assertEquals(20L * 1024 * 1024, config.maxImageBytes());
    assertEquals(256, config.maxBatchSize());
  }

  @Test
  void refusesMissingModelDir() {
    assertMessage("modelDir is required", ImageEmbedderConfig.builder());
  }

  @Test
  void refusesFolderWithoutSavedModel() throws Exception {
    Files.delete(model.resolve("saved_model.pb"));
    assertMessage("has no saved_model.pb", ImageEmbedderConfig.builder().modelDir(model));
  }

  @Test
  void refusesFolderWithoutDescriptor() throws Exception {
    Files.delete(model.resolve("model.json"));
    assertMessage("has no model.json", ImageEmbedderConfig.builder().modelDir(model));
  }

  @Test
  void namesTheLimitThatIsOutOfRange() {
    assertMessage("maxImagePixels must be positive, was 0",
        ImageEmbedderConfig.builder().modelDir(model).maxImagePixels(0));
    assertMessage("maxImageBytes must be positive, was -1",
        ImageEmbedderConfig.builder().modelDir(model).maxImageBytes(-1));
    assertMessage("maxBatchSize must be 1..65536, was 0",
        ImageEmbedderConfig.builder().modelDir(model).maxBatchSize(0));
    assertMessage("intraOpThreads must be 0", ImageEmbedderConfig.builder().modelDir(model).intraOpThreads(-2));
    assertMessage("device must be CPU, GPU or AUTO", ImageEmbedderConfig.builder().modelDir(model).device(null));
  }

  private static void assertMessage(String expected, ImageEmbedderConfig.Builder builder) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, builder::build);
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
