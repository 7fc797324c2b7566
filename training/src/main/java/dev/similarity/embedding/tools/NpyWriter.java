package dev.similarity.embedding.tools;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * Streams float32 row vectors into a NumPy {@code .npy} file (format 1.0, little-endian,
 * C order) that {@code numpy.load}, FAISS and hnswlib read directly.
 *
 * <p>The row count is unknown until {@link #close()}, so the header is written with a
 * placeholder and rewritten in place at the end; it is padded to a fixed {@value #HEADER_BYTES}
 * bytes (a multiple of 64, as NumPy aligns it) so the rewrite never moves the data.
 */
final class NpyWriter implements AutoCloseable {

  static final int HEADER_BYTES = 128;
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

  private final FileChannel channel;
  private final int dimension;
  private final ByteBuffer row;
  private long rows;

  NpyWriter(Path file, int dimension) throws IOException {
    if (dimension < 1) {
      throw new IllegalArgumentException("dimension must be positive, was " + dimension);
    }
    this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING);
    this.dimension = dimension;
    this.row = ByteBuffer.allocate(dimension * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    channel.write(header(0, dimension));
  }

  /** Appends one row of exactly {@code dimension} floats. */
  void write(float[] vector) throws IOException {
    if (vector.length != dimension) {
      throw new IllegalArgumentException("row has " + vector.length + " values, the file has " + dimension);
    }
    row.clear();
    row.asFloatBuffer().put(vector);
    row.limit(dimension * Float.BYTES);
    while (row.hasRemaining()) {
      channel.write(row);
    }
    rows++;
  }

  long rows() {
    return rows;
  }

  // The header is written last with the final row count, so a reader never sees a count larger
  // than the rows present.
  @Override
  public void close() throws IOException {
    try (channel) {
      channel.write(header(rows, dimension), 0);
      channel.force(false);
    }
  }

  static ByteBuffer header(long rows, int dimension) {
    String dict = String.format(Locale.ROOT, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }",
        rows, dimension);
    int prefix = MAGIC.length + 2;
    int padding = HEADER_BYTES - prefix - dict.length() - 1;
    if (padding < 0) {
      throw new IllegalStateException("npy header does not fit in " + HEADER_BYTES + " bytes: " + dict);
    }
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    header.put(MAGIC).putShort((short) (HEADER_BYTES - prefix));
    header.put(dict.getBytes(StandardCharsets.US_ASCII));
    for (int i = 0; i < padding; i++) {
      header.put((byte) ' ');
    }
    header.put((byte) '\n');
    return header.flip();
  }
}
