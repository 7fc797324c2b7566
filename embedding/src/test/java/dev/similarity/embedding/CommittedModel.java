package dev.similarity.embedding;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the integration tests find the model committed under models/ (tests run in embedding/);
 * {@code -Dembedding.test.model-dir=DIR} points them at another export, e.g. a retrained model.
 */
public final class CommittedModel {

  private CommittedModel() {}

  public static Path dir() {
    String override = System.getProperty("embedding.test.model-dir");
    Path dir = (override != null ? Path.of(override) : Path.of("..", "models", "fashion-mnist-similarity"))
        .toAbsolutePath().normalize();
    if (!Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      throw new IllegalStateException("the committed model is missing from " + dir
          + ": restore models/fashion-mnist-similarity or run scripts/train-model");
    }
    return dir;
  }
}
