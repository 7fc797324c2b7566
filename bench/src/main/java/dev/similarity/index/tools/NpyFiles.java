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

  /** Reads an N x d matrix of float32 ({@code <f4}) or float64 ({@code <f8}) values as floats. */
  public static float[][] readFloatMatrix(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
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
