package dev.similarity.embedding;

import java.util.Objects;
import java.util.Set;

/**
 * The outcome for one image of {@link ImageEmbedder#embedBatch}: a unit-length vector, or the
 * reason the image could not be embedded.
 */
public sealed interface EmbeddingResult {

  /** An embedded image whose metadata was all usable. */
  static EmbeddingResult success(float[] vector) {
    return new Success(vector, Set.of());
  }

  /** An embedded image; {@code ignoredMetadata} as in {@link #ignoredMetadata()}. */
  static EmbeddingResult success(float[] vector, Set<ImageMetadata> ignoredMetadata) {
    return new Success(vector, ignoredMetadata);
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

  /**
   * The image's metadata blocks that were damaged (a truncated or malformed ICC profile, an EXIF
   * block whose orientation cannot be read, XMP that is not well-formed XML) and that the decoder
   * therefore ignored while still embedding the pixels: see {@link ImageMetadata} for what each
   * kind falls back to. Empty for most images, and always empty for a failure. Count it (for
   * instance one metric per kind) to see how much of a catalogue carries broken metadata.
   *
   * @return an unmodifiable set, never null
   */
  Set<ImageMetadata> ignoredMetadata();

  /** An embedded image, with the damaged metadata blocks its decoder ignored. */
  record Success(float[] vector, Set<ImageMetadata> ignoredMetadata) implements EmbeddingResult {
    public Success {
      Objects.requireNonNull(vector, "vector");
      ignoredMetadata = Set.copyOf(ignoredMetadata);
    }

    public Success(float[] vector) {
      this(vector, Set.of());
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

    @Override
    public Set<ImageMetadata> ignoredMetadata() {
      return Set.of();
    }
  }
}
