package dev.similarity.index.tools;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads and writes 2-D NumPy {@code .npy} matrices (little-endian, C order), as numpy.save does. */
public final class NpyFiles {

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

  private NpyFiles() {}

  /** What a .npy header says: element type, shape, and where the data starts. */
  private record Header(String descr, int rows, int cols, int width, long dataOffset) {}

  /** Reads an N x d matrix of float32 ({@code <f4}) or float64 ({@code <f8}) values as floats. */
  public static float[][] readFloatMatrix(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = readHeader(channel, file);
      int rows = h.rows();
      int cols = h.cols();
      int width = h.width();
      float[][] matrix = new float[rows][cols];
      ByteBuffer row = ByteBuffer.allocate(cols * width).order(ByteOrder.LITTLE_ENDIAN);
      for (int r = 0; r < rows; r++) {
        row.clear();
        readFully(channel, row, file);
        row.flip();
        for (int c = 0; c < cols; c++) {
          matrix[r][c] = width == 4 ? row.getFloat() : (float) row.getDouble();
        }
      }
      return matrix;
    }
  }

  private static Header readHeader(FileChannel channel, Path file) throws IOException {
    ByteBuffer prefix = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    readFully(channel, prefix, file);
    prefix.flip();
    for (byte b : MAGIC) {
      if (prefix.get() != b) {
        throw new IOException(file + " is not a .npy file (bad magic); write it with numpy.save");
      }
    }
    int major = prefix.get();
    prefix.get(); // minor
    int headerLength;
    if (major == 1) {
      headerLength = Short.toUnsignedInt(prefix.getShort());
    } else {
      ByteBuffer more = ByteBuffer.allocate(2);
      readFully(channel, more, file);
      more.flip();
      headerLength =
          ByteBuffer.allocate(4)
              .order(ByteOrder.LITTLE_ENDIAN)
              .putShort(prefix.getShort())
              .put(more)
              .flip()
              .getInt();
    }
    ByteBuffer headerBytes = ByteBuffer.allocate(headerLength);
    readFully(channel, headerBytes, file);
    String header = new String(headerBytes.array(), StandardCharsets.ISO_8859_1);
    String descr = group(DESCR, header, file, "descr");
    if (group(FORTRAN, header, file, "fortran_order").equals("True")) {
      throw new IOException(file + " is in Fortran order; save it with numpy.ascontiguousarray");
    }
    String[] shape = group(SHAPE, header, file, "shape").replace(" ", "").split(",");
    if (shape.length != 2 || shape[1].isEmpty()) {
      throw new IOException(
          file + " has shape (" + String.join(",", shape) + "); an N x d matrix is needed");
    }
    int rows = Integer.parseInt(shape[0]);
    int cols = Integer.parseInt(shape[1]);
    int width =
        switch (descr) {
          case "<f4" -> 4;
          case "<f8" -> 8;
          default ->
              throw new IOException(
                  file + " holds '" + descr + "' values; float32 ('<f4') or float64 is needed");
        };
    return new Header(descr, rows, cols, width, channel.position());
  }

  public static void writeFloatMatrix(Path file, float[][] matrix) throws IOException {
    int cols = matrix.length == 0 ? 0 : matrix[0].length;
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(header("<f4", matrix.length, cols));
      ByteBuffer row = ByteBuffer.allocate(cols * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float[] values : matrix) {
        row.clear();
        for (float v : values) {
          row.putFloat(v);
        }
        out.write(row.array());
      }
    }
  }

  public static void writeIntMatrix(Path file, int[][] matrix) throws IOException {
    int cols = matrix.length == 0 ? 0 : matrix[0].length;
    try (OutputStream out = Files.newOutputStream(file)) {
      out.write(header("<i4", matrix.length, cols));
      ByteBuffer row = ByteBuffer.allocate(cols * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int[] values : matrix) {
        row.clear();
        for (int v : values) {
          row.putInt(v);
        }
        out.write(row.array());
      }
    }
  }

  /**
   * Opens {@code file} for an N x d float32 matrix written row by row, for matrices too large to hold
   * in memory: exactly {@code rows} rows must be written before {@link FloatRowWriter#close()}.
   */
  public static FloatRowWriter floatRowWriter(Path file, int rows, int cols) throws IOException {
    return new FloatRowWriter(file, rows, cols);
  }

  /** Writes a float32 matrix row by row (see {@link #floatRowWriter}). */
  public static final class FloatRowWriter implements AutoCloseable {
    private final FileChannel channel;
    private final int rows;
    private final ByteBuffer row;
    private int written;

    private FloatRowWriter(Path file, int rows, int cols) throws IOException {
      this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING);
      this.rows = rows;
      this.row = ByteBuffer.allocate(cols * 4).order(ByteOrder.LITTLE_ENDIAN);
      channel.write(ByteBuffer.wrap(header("<f4", rows, cols)));
    }

    /** Appends one row of exactly d values. */
    public void write(float[] values) throws IOException {
      if (values.length * 4 != row.capacity() || written == rows) {
        throw new IllegalArgumentException("row " + written + " has " + values.length + " values; the matrix is "
            + rows + " x " + row.capacity() / 4);
      }
      row.clear();
      row.asFloatBuffer().put(values);
      while (row.hasRemaining()) {
        channel.write(row);
      }
      written++;
    }

    /** @throws IOException if fewer rows were written than the header announces */
    @Override
    public void close() throws IOException {
      try (channel) {
        if (written != rows) {
          throw new IOException("wrote " + written + " of the " + rows + " rows the .npy header announces");
        }
        channel.force(false);
      }
    }
  }

  /** Opens a float32 N x d matrix for reading single rows, without loading it. */
  public static FloatRows floatRows(Path file) throws IOException {
    FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
    try {
      Header h = readHeader(channel, file);
      if (h.width() != 4) {
        throw new IOException(file + " holds '" + h.descr() + "' values; float32 ('<f4') is needed");
      }
      long expected = h.dataOffset() + (long) h.rows() * h.cols() * 4;
      if (channel.size() < expected) {
        throw new IOException(file + " ends early: " + channel.size() + " bytes, its header announces " + expected);
      }
      return new FloatRows(channel, file, h.rows(), h.cols(), h.dataOffset());
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** Random access to the rows of a float32 .npy matrix; thread-safe (positional reads). */
  public static final class FloatRows implements AutoCloseable {
    private final FileChannel channel;
    private final Path file;
    private final int rows;
    private final int cols;
    private final long dataOffset;

    private FloatRows(FileChannel channel, Path file, int rows, int cols, long dataOffset) {
      this.channel = channel;
      this.file = file;
      this.rows = rows;
      this.cols = cols;
      this.dataOffset = dataOffset;
    }

    public int rows() {
      return rows;
    }

    public int cols() {
      return cols;
    }

    /** Row {@code r} (0-based), d floats. */
    public float[] row(int r) throws IOException {
      java.util.Objects.checkIndex(r, rows);
      ByteBuffer bytes = ByteBuffer.allocate(cols * 4).order(ByteOrder.LITTLE_ENDIAN);
      long at = dataOffset + (long) r * cols * 4;
      while (bytes.hasRemaining()) {
        if (channel.read(bytes, at + bytes.position()) < 0) throw new IOException(file + " ends early");
      }
      float[] values = new float[cols];
      bytes.flip().asFloatBuffer().get(values);
      return values;
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }

  private static byte[] header(String descr, int rows, int cols) {
    String dict =
        "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
    // Magic (6) + version (2) + length (2) + dict + padding + '\n' must be a multiple of 64.
    int unpadded = 10 + dict.length() + 1;
    String padded = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
    ByteBuffer header = ByteBuffer.allocate(10 + padded.length()).order(ByteOrder.LITTLE_ENDIAN);
    header.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) padded.length());
    header.put(padded.getBytes(StandardCharsets.ISO_8859_1));
    return header.array();
  }

  private static String group(Pattern pattern, String header, Path file, String key)
      throws IOException {
    Matcher m = pattern.matcher(header);
    if (!m.find()) {
      throw new IOException(file + " has no '" + key + "' in its .npy header: " + header.trim());
    }
    return m.group(1);
  }

  private static void readFully(FileChannel channel, ByteBuffer buffer, Path file)
      throws IOException {
    while (buffer.hasRemaining()) {
      if (channel.read(buffer) < 0) {
        throw new IOException(file + " ends early: truncated .npy file");
      }
    }
  }
}
