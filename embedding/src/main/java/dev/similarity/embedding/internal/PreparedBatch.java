package dev.similarity.embedding.internal;

/**
 * Model-ready values of up to {@code capacity} images, NHWC, filled from slot 0; only the first
 * {@link #count()} slots go to the model.
 */
public final class PreparedBatch {

  private final float[] values;
  private final int capacity;
  private int count;

  PreparedBatch(float[] values, int capacity) {
    this.values = values;
    this.capacity = capacity;
  }

  /** The backing values (capacity x H x W x C); slots past {@link #count()} are stale. */
  public float[] values() {
    return values;
  }

  public int capacity() {
    return capacity;
  }

  public int count() {
    return count;
  }

  /** Declares slots 0..count-1 filled. */
  public PreparedBatch withCount(int count) {
    if (count < 0 || count > capacity) {
      throw new IllegalArgumentException("count " + count + " outside 0.." + capacity);
    }
    this.count = count;
    return this;
  }
}
