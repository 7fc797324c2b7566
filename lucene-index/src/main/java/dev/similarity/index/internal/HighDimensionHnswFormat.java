package dev.similarity.index.internal;

import java.io.IOException;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.KnnVectorsReader;
import org.apache.lucene.codecs.KnnVectorsWriter;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.index.SegmentReadState;
import org.apache.lucene.index.SegmentWriteState;

/**
 * Lucene's HNSW vector format with the dimension limit raised from Lucene's default (1,024) to
 * {@value #MAX_DIMENSIONS}, so that the pooled features of ImageNet backbones (2,048 for ResNet-50
 * and Inception-V3) can be indexed.
 *
 * <p>It writes and reads exactly what {@link Lucene99HnswVectorsFormat} does, and carries that
 * format's SPI name ({@value #NAME}), which the per-field format records in each segment. A stock
 * Lucene reader therefore opens our segments with its own {@link Lucene99HnswVectorsFormat} and
 * never needs this class: the limit is checked only when a document is indexed. The class is
 * deliberately not registered as a service, so {@code KnnVectorsFormat.forName(NAME)} stays the
 * stock format.
 */
public final class HighDimensionHnswFormat extends KnnVectorsFormat {

  /** The name stock Lucene registers {@link Lucene99HnswVectorsFormat} under. */
  public static final String NAME = "Lucene99HnswVectorsFormat";

  /**
   * The most dimensions accepted. Graph building and search cost grow linearly with it; 4,096
   * covers every common image backbone's pooled features (VGG fc: 4,096).
   */
  public static final int MAX_DIMENSIONS = 4_096;

  private final Lucene99HnswVectorsFormat delegate;

  public HighDimensionHnswFormat(int maxConn, int beamWidth) {
    super(NAME);
    this.delegate = new Lucene99HnswVectorsFormat(maxConn, beamWidth);
  }

  @Override
  public KnnVectorsWriter fieldsWriter(SegmentWriteState state) throws IOException {
    return delegate.fieldsWriter(state);
  }

  @Override
  public KnnVectorsReader fieldsReader(SegmentReadState state) throws IOException {
    return delegate.fieldsReader(state);
  }

  @Override
  public int getMaxDimensions(String fieldName) {
    return MAX_DIMENSIONS;
  }

  @Override
  public String toString() {
    return "HighDimensionHnswFormat(maxDimensions=" + MAX_DIMENSIONS + ", " + delegate + ")";
  }
}
