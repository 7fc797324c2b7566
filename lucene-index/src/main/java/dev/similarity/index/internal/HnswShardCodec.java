package dev.similarity.index.internal;

import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene103.Lucene103Codec;

/**
 * Lucene's default codec with our HNSW build parameters for every vector field.
 *
 * <p>It keeps the default codec's name ("Lucene103") in the segments it writes, and the per-field
 * vector format records its own name, so any stock Lucene 10.3+ reader can open a shard's commits
 * without this class: maxConn and beamWidth matter only when a graph is built (flush, merge), and
 * the raised dimension limit ({@link HighDimensionHnswFormat}) only when a document is indexed.
 */
public final class HnswShardCodec extends Lucene103Codec {

  private final KnnVectorsFormat vectorsFormat;

  public HnswShardCodec(int maxConn, int beamWidth) {
    this.vectorsFormat = new HighDimensionHnswFormat(maxConn, beamWidth);
  }

  @Override
  public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
    return vectorsFormat;
  }

  /** The most dimensions a shard index accepts ({@link HighDimensionHnswFormat#MAX_DIMENSIONS}). */
  public static int maxDimensions() {
    return HighDimensionHnswFormat.MAX_DIMENSIONS;
  }
}
