package dev.similarity.embedding;

import java.util.Objects;

/**
 * The outcome for one image of {@link ImageEmbedder#embedBatch}: a unit-length vector, or the
 * reason the image could not be embedded.
 */
public sealed interface EmbeddingResult {

  static EmbeddingResult success(float[] vector) {
    return new Success(vector);
  }

  static EmbeddingResult failure(ImageDecodingException error) {
    return new Failure(error);
  }

  boolean isSuccess();

  /**
   * The embedding.
   *
   * @throws IllegalStateException for a failure, with the decoding error as cause
   */
  float[] vector();

  /**
   * The decoding error.
   *
   * @throws IllegalStateException for a success
   */
  ImageDecodingException error();

  /** An embedded image. */
  record Success(float[] vector) implements EmbeddingResult {
    public Success {
      Objects.requireNonNull(vector, "vector");
    }

    @Override
    public boolean isSuccess() {
      return true;
    }

    @Override
    public ImageDecodingException error() {
      throw new IllegalStateException("the image was embedded; there is no error");
    }
  }

  /** An image that could not be decoded; the rest of its batch is unaffected. */
  record Failure(ImageDecodingException error) implements EmbeddingResult {
    public Failure {
      Objects.requireNonNull(error, "error");
    }

    @Override
    public boolean isSuccess() {
      return false;
    }

    @Override
    public float[] vector() {
      throw new IllegalStateException("the image was not embedded: " + error.getMessage(), error);
    }
  }
}
