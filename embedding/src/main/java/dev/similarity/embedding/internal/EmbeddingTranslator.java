package dev.similarity.embedding.internal;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.NoBatchifyTranslator;
import ai.djl.translate.TranslatorContext;
import dev.similarity.embedding.CropMode;
import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.ImageDecodingException;
import dev.similarity.embedding.ImageMetadata;
import dev.similarity.embedding.ObjectCrop;
import java.nio.FloatBuffer;
import java.util.Set;

/**
 * The one DJL translator of the embedder: it owns decoding ({@link #prepare}), resizing and
 * normalisation on the way in, and L2 normalisation on the way out.
 *
 * <p>Decoding happens before the predictor is called (in {@link #prepare}), not inside
 * {@link #processInput}, so that one undecodable image in a batch fails alone while the others
 * still go to the model together. {@code processInput} only wraps the prepared values of a whole
 * batch into one tensor, which is why this is a {@link NoBatchifyTranslator}.
 */
public final class EmbeddingTranslator implements NoBatchifyTranslator<PreparedBatch, float[][]> {

  private final EmbeddingModelDescriptor descriptor;
  private final ImageDecoder decoder;
  private final ImageDecoder fullDecoder;
  private final ImagePreprocessor preprocessor;
  private final ObjectCrop crop = new ObjectCrop();

  public EmbeddingTranslator(EmbeddingModelDescriptor descriptor, long maxImageBytes, long maxImagePixels) {
    this.descriptor = descriptor;
    this.decoder = new ImageDecoder(maxImageBytes, maxImagePixels, descriptor.inputWidth(),
        descriptor.inputHeight());
    this.fullDecoder = ImageDecoder.fullResolution(maxImageBytes, maxImagePixels);
    this.preprocessor = new ImagePreprocessor(descriptor);
  }

  /**
   * Decodes, resizes and normalises one image into slot {@code index} of {@code batch}.
   *
   * @return the image's damaged metadata blocks that were ignored (usually none)
   */
  public Set<ImageMetadata> prepare(byte[] imageBytes, PreparedBatch batch, int index) throws ImageDecodingException {
    RgbaImage image = decoder.decode(imageBytes);
    preprocessor.prepareInto(image, batch.values(), index * preprocessor.valuesPerImage());
    return image.ignoredMetadata();
  }

  /**
   * Decodes one photo at full resolution, crops it with {@link ObjectCrop} as {@code mode} says,
   * and resizes and normalises the result into slot {@code index} of {@code batch}. Alpha is laid
   * over the model's pad colour before the crop looks at the photo. A photo the crop leaves whole
   * is prepared exactly as by {@link #prepare}.
   *
   * @return what the crop did and where (in the upright photo's pixels)
   */
  public ObjectCrop.Result prepareCropped(byte[] imageBytes, CropMode mode, PreparedBatch batch, int index)
      throws ImageDecodingException {
    RgbaImage photo = fullDecoder.decode(imageBytes);
    ObjectCrop.Result result = crop.apply(photo.toRgb(descriptor.padValue()), mode);
    if (result.outcome() == ObjectCrop.Outcome.CROPPED) {
      RgbaImage cropped = ImageDecoder.toRgba(result.image()).withIgnoredMetadata(photo.ignoredMetadata());
      preprocessor.prepareInto(cropped, batch.values(), index * preprocessor.valuesPerImage());
    } else {
      // Left whole: exactly what an upload without a crop gets (decoded again, as prepare does).
      prepare(imageBytes, batch, index);
    }
    return result;
  }

  /** An empty batch of {@code capacity} images sized for this model. */
  public PreparedBatch newBatch(int capacity) {
    return new PreparedBatch(new float[capacity * preprocessor.valuesPerImage()], capacity);
  }

  @Override
  public NDList processInput(TranslatorContext ctx, PreparedBatch batch) {
    Shape shape = new Shape(batch.count(), descriptor.inputHeight(), descriptor.inputWidth(),
        descriptor.inputChannels());
    FloatBuffer values = FloatBuffer.wrap(batch.values(), 0, (int) shape.size());
    NDArray input = ctx.getNDManager().create(values, shape);
    input.setName(descriptor.inputTensor());
    return new NDList(input);
  }

  @Override
  public float[][] processOutput(TranslatorContext ctx, NDList list) {
    NDArray output = list.size() == 1 ? list.singletonOrThrow() : list.get(descriptor.outputTensor());
    if (output == null) {
      throw new IllegalStateException("the model returned no output '" + descriptor.outputTensor()
          + "'; set outputTensor in model.json to one of the signature's outputs");
    }
    Shape shape = output.getShape();
    if (shape.dimension() != 2 || shape.get(1) != descriptor.embeddingDimension()) {
      throw new IllegalStateException("the model's output '" + descriptor.outputTensor() + "' has shape "
          + shape + " but model.json declares embeddingDimension " + descriptor.embeddingDimension()
          + "; fix embeddingDimension or pick an output of shape [batch, d]");
    }
    int rows = (int) shape.get(0);
    int dim = (int) shape.get(1);
    float[] flat = output.toFloatArray();
    float[][] vectors = new float[rows][];
    for (int i = 0; i < rows; i++) {
      float[] v = new float[dim];
      System.arraycopy(flat, i * dim, v, 0, dim);
      vectors[i] = Vectors.l2Normalise(v);
    }
    return vectors;
  }
}
