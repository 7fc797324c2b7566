package dev.similarity.embedding.internal;

import static dev.similarity.embedding.ImageDecodingException.Reason.TOO_MANY_PIXELS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.embedding.ImageDecodingException;
import dev.similarity.embedding.ImageEmbedderConfig;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.ByteOrder;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Photos are decoded as shown, not as stored: each EXIF orientation, written by a camera as
 * stored pixels plus the tag, decodes to the upright image.
 */
class ImageDecoderOrientationTest {

  /** Eight distinct colours in 16x16 cells (4 across, 2 down): no two orientations look alike. */
  private static final Color[] CELLS = {
      new Color(220, 30, 30), new Color(30, 200, 30), new Color(30, 30, 220), new Color(230, 220, 40),
      new Color(40, 210, 210), new Color(200, 40, 200), new Color(240, 240, 240), new Color(20, 20, 20)};

  private final ImageDecoder decoder = new ImageDecoder(ImageEmbedderConfig.DEFAULT_MAX_IMAGE_BYTES,
      ImageEmbedderConfig.DEFAULT_MAX_IMAGE_PIXELS, 28, 28);

  static Stream<Arguments> orientationsAndByteOrders() {
    return IntStream.rangeClosed(1, 8).boxed().flatMap(o -> Stream.of(
        Arguments.of(o, ByteOrder.BIG_ENDIAN), Arguments.of(o, ByteOrder.LITTLE_ENDIAN)));
  }

  @ParameterizedTest(name = "orientation {0}, {1}")
  @MethodSource("orientationsAndByteOrders")
  void jpegIsDecodedUprightForEveryOrientation(int orientation, ByteOrder order) throws Exception {
    BufferedImage upright = grid();
    byte[] jpeg = TestMetadata.withSegments(TestMetadata.jpeg(TestMetadata.storedFor(upright, orientation), 0.95f),
        TestMetadata.exifSegment(TestMetadata.exifTiff(orientation, order)));

    RgbaImage image = decoder.decode(jpeg);

    assertEquals(64, image.width(), "width");
    assertEquals(32, image.height(), "height");
    // Chroma upsampling blurs the cell edges; the cells' insides tell every orientation apart.
    assertPixels(upright, image, 4, 6);
    assertTrue(image.ignoredMetadata().isEmpty(), image.ignoredMetadata().toString());
  }

  @ParameterizedTest(name = "orientation {0}")
  @MethodSource("orientations")
  void pngWithExifChunkIsDecodedUprightExactly(int orientation) throws Exception {
    BufferedImage upright = grid();
    byte[] png = TestMetadata.withChunkAfterHeader(
        TestImages.encode(TestMetadata.storedFor(upright, orientation), "png"), "eXIf",
        TestMetadata.exifTiff(orientation, ByteOrder.BIG_ENDIAN));

    RgbaImage image = decoder.decode(png);

    assertEquals(64, image.width());
    assertEquals(32, image.height());
    assertPixels(upright, image, 0, 0);
  }

  @ParameterizedTest(name = "orientation {0}")
  @MethodSource("orientations")
  void grayJpegIsDecodedUprightAndStaysGray(int orientation) throws Exception {
    BufferedImage upright = TestImages.gray(64, 32, (x, y) -> 30 * (x / 16 + 4 * (y / 16)));
    byte[] jpeg = TestMetadata.withSegments(TestMetadata.jpeg(TestMetadata.storedFor(upright, orientation), 0.95f),
        TestMetadata.exifSegment(TestMetadata.exifTiff(orientation, ByteOrder.LITTLE_ENDIAN)));

    RgbaImage image = decoder.decode(jpeg);

    assertTrue(image.isGray());
    assertEquals(64, image.width());
    for (int y = 0; y < 32; y++) {
      for (int x = 0; x < 64; x++) {
        assertEquals(upright.getRaster().getSample(x, y, 0), image.luminance(y * 64 + x), 4, "(" + x + "," + y + ")");
      }
    }
  }

  static IntStream orientations() {
    return IntStream.rangeClosed(1, 8);
  }

  // Browsers (and the PNG specification) ignore an eXIf chunk that follows the image data.
  @Test
  void pngExifAfterTheImageDataIsIgnored() throws Exception {
    BufferedImage stored = TestMetadata.storedFor(grid(), 6);
    byte[] png = TestMetadata.withChunkBeforeEnd(TestImages.encode(stored, "png"), "eXIf",
        TestMetadata.exifTiff(6, ByteOrder.BIG_ENDIAN));

    RgbaImage image = decoder.decode(png);

    assertEquals(32, image.width());
    assertPixels(stored, image, 0, 0);
    assertTrue(image.ignoredMetadata().isEmpty());
  }

  // Turning changes no pixel count: the limit is still checked on the header, before any pixel.
  @Test
  void pixelLimitIsCheckedFromTheHeaderOfATurnedImage() {
    byte[] header = TestImages.jpegHeaderOnly(10_000, 10_000);
    byte[] jpeg = TestMetadata.withSegments(header, TestMetadata.exifSegment(TestMetadata.exifTiff(6, ByteOrder.BIG_ENDIAN)));
    ImageDecodingException e = assertThrows(ImageDecodingException.class, () -> decoder.decode(jpeg));
    assertEquals(TOO_MANY_PIXELS, e.reason(), e.getMessage());
  }

  // A 300x1200 photo shown as 1200x300, for a model input twice as wide as high (56x28):
  // subsampling is chosen from the shown shape, min(1200 / 224, 300 / 112) = 2.
  @Test
  void subsamplingFollowsTheShownShape() throws Exception {
    BufferedImage upright = TestImages.gray(1200, 300, (x, y) -> x < 600 ? 0 : 255);
    byte[] png = TestMetadata.withChunkAfterHeader(TestImages.encode(TestMetadata.storedFor(upright, 6), "png"),
        "eXIf", TestMetadata.exifTiff(6, ByteOrder.BIG_ENDIAN));
    ImageDecoder wide = new ImageDecoder(1 << 24, 1 << 24, 56, 28);

    RgbaImage image = wide.decode(png);

    assertEquals(600, image.width());
    assertEquals(150, image.height());
    assertEquals(0, image.luminance(10));
    assertEquals(255, image.luminance(590));
  }

  private static BufferedImage grid() {
    BufferedImage image = new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    for (int i = 0; i < CELLS.length; i++) {
      g.setColor(CELLS[i]);
      g.fillRect(16 * (i % 4), 16 * (i / 4), 16, 16);
    }
    g.dispose();
    return image;
  }

  /** Every pixel at least {@code margin} away from a 16x16 cell's edge is within {@code tolerance}. */
  private static void assertPixels(BufferedImage expected, RgbaImage actual, int margin, int tolerance) {
    assertEquals(expected.getWidth(), actual.width(), "width");
    assertEquals(expected.getHeight(), actual.height(), "height");
    for (int y = 0; y < expected.getHeight(); y++) {
      for (int x = 0; x < expected.getWidth(); x++) {
        if (Math.min(x % 16, 15 - x % 16) < margin || Math.min(y % 16, 15 - y % 16) < margin) {
          continue;
        }
        Color e = new Color(expected.getRGB(x, y));
        int i = y * actual.width() + x;
        String at = "pixel (" + x + "," + y + ") was rgb(" + actual.red(i) + "," + actual.green(i) + ","
            + actual.blue(i) + "), expected " + e;
        if (Math.abs(e.getRed() - actual.red(i)) > tolerance || Math.abs(e.getGreen() - actual.green(i)) > tolerance
            || Math.abs(e.getBlue() - actual.blue(i)) > tolerance) {
          throw new AssertionError(at);
        }
      }
    }
  }
}
