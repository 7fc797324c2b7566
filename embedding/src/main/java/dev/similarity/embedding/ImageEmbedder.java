package dev.similarity.embedding;

import dev.similarity.embedding.internal.DjlEmbeddingModel;
import dev.similarity.embedding.internal.PreparedBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Turns image bytes into L2-normalised embeddings with a TensorFlow SavedModel served by DJL.
 *
 * <pre>{@code
 * try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder()
 *     .modelDir(Path.of("models/fashion-mnist-similarity")).build())) {
 *   float[] v = embedder.embed(Files.readAllBytes(photo));
 * }
 * }</pre>
 *
 * <p>Thread safety: every method may be called from any thread; calls are serialised on this
 * instance (one DJL predictor), so throughput comes from batching, not from sharing one
 * embedder between threads. Use one embedder per thread for parallelism.
 */
public final class ImageEmbedder implements AutoCloseable {

  private final ImageEmbedderConfig config;
  private final DjlEmbeddingModel model;
  private boolean closed;

  private ImageEmbedder(ImageEmbedderConfig config, DjlEmbeddingModel model) {
    this.config = config;
    this.model = model;
  }

  /**
   * Loads the SavedModel and descriptor of {@code config.modelDir()} (TensorFlow natives are
   * extracted once from the class path; nothing is downloaded).
   *
   * @throws IllegalArgumentException when the descriptor is invalid, does not match the
   *     SavedModel's signature, or the requested device is unavailable
   */
  public static ImageEmbedder load(ImageEmbedderConfig config) {
    Objects.requireNonNull(config, "config");
    return new ImageEmbedder(config, DjlEmbeddingModel.load(config));
  }

  /**
   * Embeds one image, upright as shown (its EXIF orientation applied); damaged metadata is
   * ignored as in {@link #embedBatch}.
   *
   * @return a unit-length vector of {@link #dimension()} floats
   * @throws ImageDecodingException when the bytes are empty, too large, or not a decodable image
   */
  public synchronized float[] embed(byte[] imageBytes) throws ImageDecodingException {
    ensureOpen();
    PreparedBatch batch = model.translator().newBatch(1);
    model.translator().prepare(imageBytes, batch, 0);
    return model.predict(batch.withCount(1))[0];
  }

  /**
   * Embeds a shopper's photo after cropping it to the product ({@link ObjectCrop}, as {@code crop}
   * says): decoded upright at full resolution, cropped, then resized for the model. {@link
   * CropMode#OFF} is {@link #embed(byte[])}.
   *
   * @return a unit-length vector of {@link #dimension()} floats and what the crop did
   * @throws ImageDecodingException when the bytes are empty, too large, or not a decodable image
   */
  public synchronized PhotoEmbedding embed(byte[] imageBytes, CropMode crop) throws ImageDecodingException {
    ensureOpen();
    Objects.requireNonNull(crop, "crop");
    if (crop == CropMode.OFF) {
      return new PhotoEmbedding(embed(imageBytes), null);
    }
    PreparedBatch batch = model.translator().newBatch(1);
    ObjectCrop.Result result = model.translator().prepareCropped(imageBytes, crop, batch, 0);
    return new PhotoEmbedding(model.predict(batch.withCount(1))[0], result);
  }

  /**
   * Embeds many images, each decoded on its own: an undecodable image yields a failed result at
   * its position, the others go to the model together (in chunks of {@code maxBatchSize}). Images
   * are embedded upright as shown (EXIF orientation applied); a damaged ICC profile, EXIF block or
   * XMP packet is ignored, never a failure, and named in {@link EmbeddingResult#ignoredMetadata()}.
   *
   * @return one result per input, in input order
   */
  public synchronized List<EmbeddingResult> embedBatch(List<byte[]> images) {
    ensureOpen();
    Objects.requireNonNull(images, "images");
    EmbeddingResult[] results = new EmbeddingResult[images.size()];
    int chunk = config.maxBatchSize();
    PreparedBatch batch = model.translator().newBatch(Math.min(chunk, Math.max(1, images.size())));
    int[] slotOf = new int[batch.capacity()];
    List<Set<ImageMetadata>> ignoredOf = new ArrayList<>(Collections.nCopies(batch.capacity(), Set.of()));
    int filled = 0;
    for (int i = 0; i < images.size(); i++) {
      try {
        ignoredOf.set(filled, model.translator().prepare(images.get(i), batch, filled));
        slotOf[filled++] = i;
      } catch (ImageDecodingException e) {
        results[i] = EmbeddingResult.failure(e);
      }
      if (filled == batch.capacity()) {
        run(batch, filled, slotOf, ignoredOf, results);
        filled = 0;
      }
    }
    if (filled > 0) {
      run(batch, filled, slotOf, ignoredOf, results);
    }
    return Arrays.asList(results);
  }

  private void run(PreparedBatch batch, int count, int[] slotOf, List<Set<ImageMetadata>> ignoredOf,
      EmbeddingResult[] results) {
    float[][] vectors = model.predict(batch.withCount(count));
    for (int s = 0; s < count; s++) {
      results[slotOf[s]] = EmbeddingResult.success(vectors[s], ignoredOf.get(s));
    }
  }

  /** The model's descriptor (id, version, input size, normalisation, ...). */
  public EmbeddingModelDescriptor descriptor() {
    return model.descriptor();
  }

  /** Length of every embedding. */
  public int dimension() {
    return model.descriptor().embeddingDimension();
  }

  /** {@code modelId@version}, to store next to every embedding. */
  public String modelId() {
    return model.descriptor().qualifiedId();
  }

  /** The device the model actually runs on ({@code AUTO} resolved). */
  public DeviceSelection device() {
    return model.device();
  }

  /** The configuration this embedder was loaded with. */
  public ImageEmbedderConfig config() {
    return config;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("this ImageEmbedder is closed");
    }
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      model.close();
    }
  }
}
