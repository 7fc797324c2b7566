package dev.similarity.embedding.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyWriterTest {

  @TempDir
  Path dir;

  @Test
  void writesANumpyVersionOneFileWithTheFinalRowCount() throws Exception {
    Path file = dir.resolve("v.npy");
    float[][] rows = {{1f, -2f, 3.5f}, {0f, Float.MIN_VALUE, 1e30f}};
    try (NpyWriter writer = new NpyWriter(file, 3)) {
      for (float[] row : rows) {
        writer.write(row);
      }
    }
    byte[] bytes = Files.readAllBytes(file);
    assertEquals(NpyWriter.HEADER_BYTES + 2 * 3 * 4, bytes.length);
    ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    byte[] magic = new byte[8];
    in.get(magic);
    assertArrayEquals(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}, magic);
    int headerLength = Short.toUnsignedInt(in.getShort());
    assertEquals(NpyWriter.HEADER_BYTES - 10, headerLength);
    String header = new String(bytes, 10, headerLength, StandardCharsets.US_ASCII);
    assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header);
    assertTrue(header.endsWith("\n"));
    in.position(NpyWriter.HEADER_BYTES);
    for (float[] row : rows) {
      for (float v : row) {
        assertEquals(v, in.getFloat());
      }
    }
  }

  @Test
  void refusesRowsOfTheWrongLength() throws Exception {
    try (NpyWriter writer = new NpyWriter(dir.resolve("w.npy"), 4)) {
      assertThrows(IllegalArgumentException.class, () -> writer.write(new float[3]));
    }
  }
}
