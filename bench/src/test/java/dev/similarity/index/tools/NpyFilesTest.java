package dev.similarity.index.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyFilesTest {

  @Test
  void floatMatrixSurvivesARoundTrip(@TempDir Path tmp) throws IOException {
    float[][] matrix = {{1f, -2.5f, 3e-7f}, {Float.MAX_VALUE, 0f, -0f}};
    Path file = tmp.resolve("m.npy");

    NpyFiles.writeFloatMatrix(file, matrix);

    float[][] read = NpyFiles.readFloatMatrix(file);
    assertEquals(2, read.length);
    assertArrayEquals(matrix[0], read[0]);
    assertArrayEquals(matrix[1], read[1]);
    assertEquals(0, (Files.size(file) - 2 * 3 * 4) % 64, "header padded to 64 bytes as numpy does");
  }

  @Test
  void rowsWrittenOneByOneReadBackSinglyAndAsAWhole(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("rows.npy");
    try (NpyFiles.FloatRowWriter out = NpyFiles.floatRowWriter(file, 3, 2)) {
      out.write(new float[] {1f, 2f});
      out.write(new float[] {-3f, 4.5f});
      out.write(new float[] {0f, Float.MIN_VALUE});
      assertThrows(IllegalArgumentException.class, () -> out.write(new float[] {1f, 2f}));
    }

    try (NpyFiles.FloatRows rows = NpyFiles.floatRows(file)) {
      assertEquals(3, rows.rows());
      assertEquals(2, rows.cols());
      assertArrayEquals(new float[] {0f, Float.MIN_VALUE}, rows.row(2));
      assertArrayEquals(new float[] {-3f, 4.5f}, rows.row(1));
      assertThrows(IndexOutOfBoundsException.class, () -> rows.row(3));
    }
    assertArrayEquals(new float[] {1f, 2f}, NpyFiles.readFloatMatrix(file)[0]);
  }

  @Test
  void aRowWriterClosedEarlyAndATruncatedFileAreRefused(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("short-rows.npy");
    NpyFiles.FloatRowWriter out = NpyFiles.floatRowWriter(file, 3, 2);
    out.write(new float[] {1f, 2f});
    assertTrue(assertThrows(IOException.class, out::close).getMessage().contains("wrote 1 of the 3 rows"));
    assertTrue(assertThrows(IOException.class, () -> NpyFiles.floatRows(file)).getMessage().contains("ends early"));
  }

  @Test
  void readsFloat64AsWrittenByNumpyByDefault(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("f8.npy");
    writeRaw(file, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", 16, b -> b.putDouble(0.5).putDouble(-4));

    assertArrayEquals(new float[] {0.5f, -4f}, NpyFiles.readFloatMatrix(file)[0]);
  }

  @Test
  void refusesFortranOrderAndOtherTypesWithTheFix(@TempDir Path tmp) throws IOException {
    Path fortran = tmp.resolve("fortran.npy");
    writeRaw(fortran, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", 4, b -> b.putFloat(1));
    Path ints = tmp.resolve("ints.npy");
    writeRaw(ints, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 1), }", 8, b -> b.putLong(1));

    String fortranError = assertThrows(IOException.class, () -> NpyFiles.readFloatMatrix(fortran)).getMessage();
    String intsError = assertThrows(IOException.class, () -> NpyFiles.readFloatMatrix(ints)).getMessage();
    assertTrue(fortranError.contains("ascontiguousarray"), fortranError);
    assertTrue(intsError.contains("'<i8'"), intsError);
  }

  @Test
  void refusesTruncatedFiles(@TempDir Path tmp) throws IOException {
    Path file = tmp.resolve("short.npy");
    writeRaw(file, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 8, b -> b.putFloat(1).putFloat(2));

    assertTrue(assertThrows(IOException.class, () -> NpyFiles.readFloatMatrix(file)).getMessage().contains("truncated"));
  }

  private static void writeRaw(Path file, String dict, int dataBytes, java.util.function.Consumer<ByteBuffer> data)
      throws IOException {
    byte[] header = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer buffer = ByteBuffer.allocate(10 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    buffer.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length).put(header);
    data.accept(buffer);
    Files.write(file, buffer.array());
  }
}
