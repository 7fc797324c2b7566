package dev.similarity.schemas;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The wire form of {@link ImageEmbedding#getVector()}: IEEE 754 float32 values, little-endian, 4 bytes
 * each, no header, so a vector of d dimensions is 4·d bytes. Bytes rather than an Avro
 * {@code array<float>}: the same 4 bytes per value on the wire, but one length prefix instead of
 * array blocks, and decoding is one bulk copy instead of d boxed {@code Float}s in a list.
 */
public final class EmbeddingVectors {

  private EmbeddingVectors() {}

  /** {@code vector} as little-endian float32 bytes, in a new buffer positioned at 0. */
  public static ByteBuffer toBytes(float[] vector) {
    ByteBuffer bytes = ByteBuffer.allocate(vector.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(vector);
    return bytes;
  }

  /**
   * The floats in the remaining bytes of {@code bytes} (its position is not moved).
   *
   * @throws IllegalArgumentException if the remaining length is not a multiple of 4
   */
  public static float[] fromBytes(ByteBuffer bytes) {
    int length = bytes.remaining();
    if (length % Float.BYTES != 0) {
      throw new IllegalArgumentException("an embedding vector is float32 values of 4 bytes each, but it has "
          + length + " bytes");
    }
    float[] vector = new float[length / Float.BYTES];
    bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(vector);
    return vector;
  }

  /** An embedding of model {@code modelId} (modelId@version) for a catalogue event. */
  public static ImageEmbedding of(String modelId, float[] vector) {
    return ImageEmbedding.newBuilder().setModelId(modelId).setVector(toBytes(vector)).build();
  }
}
