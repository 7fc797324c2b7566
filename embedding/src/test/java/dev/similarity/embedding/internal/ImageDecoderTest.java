package dev.similarity.embedding.internal;

import static dev.similarity.embedding.ImageDecodingException.Reason.CORRUPT;
import static dev.similarity.embedding.ImageDecodingException.Reason.EMPTY;
import static dev.similarity.embedding.ImageDecodingException.Reason.TOO_MANY_BYTES;
import static dev.similarity.embedding.ImageDecodingException.Reason.TOO_MANY_PIXELS;
import static dev.similarity.embedding.ImageDecodingException.Reason.TRUNCATED;
import static dev.similarity.embedding.ImageDecodingException.Reason.UNSUPPORTED_FORMAT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.similarity.embedding.ImageDecodingException;
import dev.similarity.embedding.ImageEmbedderConfig;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ImageDecoderTest {

  private static final Color RED = new Color(220, 30, 30);
  private static final Color BLUE = new Color(30, 30, 220);

  private final ImageDecoder decoder = new ImageDecoder(ImageEmbedderConfig.DEFAULT_MAX_IMAGE_BYTES,
      ImageEmbedderConfig.DEFAULT_MAX_IMAGE_PIXELS, 28, 28);

  @Test
  void decodesBaselineJpegInColour() throws Exception {
    byte[] jpeg = TestImages.encode(TestImages.halves(40, 20, BufferedImage.TYPE_INT_RGB, RED, BLUE), "jpeg");
    RgbaImage image = decoder.decode(jpeg);
    assertEquals(40, image.width());
    assertEquals(20, image.height());
    assertColour(image, 5, 10, RED, 12);
    assertColour(image, 35, 10, BLUE, 12);
  }

  @Test
  void decodesProgressiveJpeg() throws Exception {
    byte[] jpeg = TestImages.progressiveJpeg(TestImages.halves(64, 32, BufferedImage.TYPE_INT_RGB, RED, BLUE));
    RgbaImage image = decoder.decode(jpeg);
    assertColour(image, 8, 16, RED, 12);
    assertColour(image, 56, 16, BLUE, 12);
  }

  @Test
  void decodesCmykJpegToRgb() throws Exception {
    RgbaImage image = decoder.decode(TestImages.cmykJpeg(32, 16));
    assertEquals(32, image.width());
    assertColour(image, 4, 8, Color.WHITE, 24);
    assertColour(image, 28, 8, Color.BLACK, 40);
  }

  @Test
  void decodesGrayscaleJpegWithoutBrightening() throws Exception {
    byte[] jpeg = TestImages.encode(TestImages.gray(16, 16, (x, y) -> 100), "jpeg");
    RgbaImage image = decoder.decode(jpeg);
    assertTrue(image.isGray());
    assertEquals(100, image.luminance(8 * 16 + 8), 2);
  }

  @Test
  void decodesGrayscalePngExactly() throws Exception {
    byte[] png = TestImages.encode(TestImages.gray(28, 28, (x, y) -> (x * 9 + y) % 256), "png");
    RgbaImage image = decoder.decode(png);
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        assertEquals((x * 9 + y) % 256, image.luminance(y * 28 + x));
      }
    }
  }

  @Test
  void decodesPngWithAlpha() throws Exception {
    BufferedImage argb = TestImages.halves(10, 10, BufferedImage.TYPE_INT_ARGB,
        TestImages.colour(0x00FFFFFF), TestImages.colour(0xFF00FF00));
    RgbaImage image = decoder.decode(TestImages.encode(argb, "png"));
    assertTrue(image.hasAlpha());
    assertEquals(0, image.alpha(5 * 10 + 1));
    assertEquals(255, image.alpha(5 * 10 + 8));
    assertColour(image, 8, 5, Color.GREEN, 0);
  }

  @Test
  void decodes16BitColourPng() throws Exception {
    RgbaImage image = decoder.decode(TestImages.encode(TestImages.rgb16(6, 4, 65535, 32896, 0), "png"));
    assertColour(image, 3, 2, new Color(255, 128, 0), 1);
  }

  @Test
  void decodes16BitGrayPngAsStoredValues() throws Exception {
    RgbaImage image = decoder.decode(TestImages.encode(TestImages.gray16(6, 4, 100 * 257), "png"));
    assertTrue(image.isGray());
    assertEquals(100, image.luminance(0));
  }

  @Test
  void decodesPalettePng() throws Exception {
    RgbaImage image = decoder.decode(TestImages.encode(TestImages.palette(8, 4, RED, BLUE), "png"));
    assertColour(image, 1, 1, RED, 0);
    assertColour(image, 6, 1, BLUE, 0);
  }

  @Test
  void decodesFirstFrameOfAnimatedGif() throws Exception {
    RgbaImage image = decoder.decode(TestImages.animatedGif(8, 8, Color.RED, Color.BLUE));
    assertColour(image, 4, 4, Color.RED, 0);
  }

  @Test
  void decodesBmp() throws Exception {
    RgbaImage image = decoder.decode(TestImages.encode(
        TestImages.halves(9, 5, BufferedImage.TYPE_3BYTE_BGR, RED, BLUE), "bmp"));
    assertEquals(9, image.width());
    assertColour(image, 0, 0, RED, 0);
    assertColour(image, 8, 4, BLUE, 0);
  }

  @Test
  void decodesLossyWebp() throws Exception {
    RgbaImage image = decoder.decode(TestImages.resource("red-blue-48x32-lossy.webp"));
    assertEquals(48, image.width());
    assertEquals(32, image.height());
    assertColour(image, 6, 16, RED, 20);
    assertColour(image, 42, 16, BLUE, 20);
  }

  @Test
  void decodesLosslessWebpWithAlpha() throws Exception {
    RgbaImage image = decoder.decode(TestImages.resource("white-square-alpha-16x16-lossless.webp"));
    assertTrue(image.hasAlpha());
    assertEquals(0, image.alpha(0));
    assertEquals(255, image.alpha(8 * 16 + 8));
    assertColour(image, 8, 8, Color.WHITE, 0);
  }

  @Test
  void decodesOneByOnePixelImage() throws Exception {
    RgbaImage image = decoder.decode(TestImages.encode(TestImages.gray(1, 1, (x, y) -> 77), "png"));
    assertEquals(1, image.width());
    assertEquals(1, image.height());
    assertEquals(77, image.luminance(0));
  }

  @Test
  void refusesEmptyInput() {
    assertEquals(EMPTY, reasonFor(new byte[0]));
    assertEquals(EMPTY, reasonFor(null));
  }

  @Test
  void refusesInputOverByteLimitWithoutReadingIt() {
    ImageDecoder small = new ImageDecoder(1000, ImageEmbedderConfig.DEFAULT_MAX_IMAGE_PIXELS, 28, 28);
    byte[] png = TestImages.encode(TestImages.gray(200, 200, (x, y) -> (x ^ y) & 0xFF), "png");
    ImageDecodingException e = assertThrows(ImageDecodingException.class, () -> small.decode(png));
    assertEquals(TOO_MANY_BYTES, e.reason());
    assertTrue(e.getMessage().contains("maxImageBytes"), e.getMessage());
    // Not an image at all, but the size rule comes first.
    byte[] junk = new byte[1001];
    assertEquals(TOO_MANY_BYTES, assertThrows(ImageDecodingException.class, () -> small.decode(junk)).reason());
  }

  static Stream<Arguments> headersAnnouncingOneHundredMegapixels() {
    return Stream.of(
        Arguments.of("PNG", TestImages.pngHeaderOnly(10_000, 10_000)),
        Arguments.of("BMP", TestImages.bmpHeaderOnly(10_000, 10_000)),
        Arguments.of("JPEG", TestImages.jpegHeaderOnly(10_000, 10_000)));
  }

  // The files hold no pixel data at all: had the decoder started on pixels, it would have failed
  // with TRUNCATED or CORRUPT instead.
  @ParameterizedTest(name = "{0}")
  @MethodSource("headersAnnouncingOneHundredMegapixels")
  void refusesHeaderAnnouncingTooManyPixels(String format, byte[] bytes) {
    ImageDecodingException e = assertThrows(ImageDecodingException.class, () -> decoder.decode(bytes));
    assertEquals(TOO_MANY_PIXELS, e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains("10000x10000 = 100.0 MP"), e.getMessage());
    assertTrue(e.getMessage().contains("maxImagePixels (16.8 MP)"), e.getMessage());
  }

  @Test
  void pixelLimitIsConfigurable() throws Exception {
    byte[] png = TestImages.encode(TestImages.gray(64, 64, (x, y) -> 0), "png");
    ImageDecoder strict = new ImageDecoder(1 << 20, 64 * 64 - 1, 28, 28);
    assertEquals(TOO_MANY_PIXELS, assertThrows(ImageDecodingException.class, () -> strict.decode(png)).reason());
    ImageDecoder exact = new ImageDecoder(1 << 20, 64 * 64, 28, 28);
    assertEquals(64, exact.decode(png).width());
  }

  @Test
  void refusesBytesOfNoSupportedFormat() {
    ImageDecodingException e = assertThrows(ImageDecodingException.class,
        () -> decoder.decode("<html>not an image</html>".getBytes(StandardCharsets.US_ASCII)));
    assertEquals(UNSUPPORTED_FORMAT, e.reason());
    assertTrue(e.getMessage().contains("3c 68 74 6d"), e.getMessage());
  }

  @Test
  void refusesImageFormatsOutsideTheSupportedFive() {
    byte[] tiff = TestImages.encode(TestImages.gray(8, 8, (x, y) -> 0), "tiff");
    ImageDecodingException e = assertThrows(ImageDecodingException.class, () -> decoder.decode(tiff));
    assertEquals(UNSUPPORTED_FORMAT, e.reason());
    assertTrue(e.getMessage().contains("are TIF, not JPEG, PNG, GIF, BMP or WebP"), e.getMessage());
  }

  @Test
  void reportsTruncatedJpeg() {
    byte[] jpeg = TestImages.encode(noise(64, 64), "jpeg");
    assertEquals(TRUNCATED, reasonFor(Arrays.copyOf(jpeg, jpeg.length / 2)));
  }

  @Test
  void reportsTruncatedProgressiveJpeg() {
    byte[] jpeg = TestImages.progressiveJpeg(noise(64, 64));
    assertEquals(TRUNCATED, reasonFor(Arrays.copyOf(jpeg, jpeg.length * 2 / 3)));
  }

  @Test
  void reportsTruncatedPng() {
    byte[] png = TestImages.encode(noise(64, 64), "png");
    assertEquals(TRUNCATED, reasonFor(Arrays.copyOf(png, png.length / 2)));
  }

  @Test
  void reportsTruncatedGif() {
    byte[] gif = TestImages.encode(noise(64, 64), "gif");
    assertEquals(TRUNCATED, reasonFor(Arrays.copyOf(gif, gif.length / 2)));
  }

  @Test
  void reportsDamagedPngData() {
    byte[] png = TestImages.encode(noise(64, 64), "png");
    // Overwrite the middle of the compressed pixel data; the length stays the same.
    for (int i = png.length / 2; i < png.length / 2 + 64; i++) {
      png[i] = (byte) 0xFF;
    }
    ImageDecodingException.Reason reason = reasonFor(png);
    assertTrue(reason == CORRUPT || reason == TRUNCATED, "was " + reason);
  }

  @Test
  void reportsPngWithImpossibleHeader() {
    assertEquals(CORRUPT, reasonFor(TestImages.pngHeaderOnly(0, 10)));
  }

  // Hostile bytes must end in an image or an ImageDecodingException: never another exception.
  @Test
  void mutatedImagesFailOnlyWithDecodingExceptions() {
    SplittableRandom random = new SplittableRandom(7);
    byte[][] seeds = {
        TestImages.encode(noise(24, 24), "png"),
        TestImages.encode(noise(24, 24), "jpeg"),
        TestImages.encode(noise(24, 24), "gif"),
        TestImages.encode(noise(24, 24), "bmp"),
        TestImages.resource("red-blue-48x32-lossy.webp"),
        TestImages.resource("white-square-alpha-16x16-lossless.webp")};
    ImageDecoder bounded = new ImageDecoder(1 << 20, 1 << 20, 28, 28);
    int decoded = 0;
    int refused = 0;
    for (byte[] seed : seeds) {
      for (int trial = 0; trial < 150; trial++) {
        byte[] mutated = seed.clone();
        int flips = 1 + random.nextInt(8);
        for (int f = 0; f < flips; f++) {
          mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
        }
        if (random.nextInt(4) == 0) {
          mutated = Arrays.copyOf(mutated, 1 + random.nextInt(mutated.length));
        }
        try {
          bounded.decode(mutated);
          decoded++;
        } catch (ImageDecodingException e) {
          refused++;
        } catch (Throwable t) {
          fail("mutation " + trial + " of a " + seed.length + "-byte image threw " + t, t);
        }
      }
    }
    assertTrue(refused > 0 && decoded > 0, "decoded " + decoded + ", refused " + refused);
  }

  @Test
  void largeImagesAreSubsampledWhileDecoding() throws Exception {
    byte[] png = TestImages.encode(TestImages.gray(1200, 600, (x, y) -> x < 600 ? 0 : 255), "png");
    RgbaImage image = decoder.decode(png);
    // 600 / (4 * 28) = 5: decoded at a fifth of the size, still at least 4x the model input.
    assertEquals(240, image.width());
    assertEquals(120, image.height());
    assertFalse(image.hasAlpha());
    assertEquals(0, image.luminance(10));
    assertEquals(255, image.luminance(230));
  }

  private static BufferedImage noise(int width, int height) {
    SplittableRandom random = new SplittableRandom(width * 31L + height);
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, random.nextInt(1 << 24));
      }
    }
    return image;
  }

  private ImageDecodingException.Reason reasonFor(byte[] bytes) {
    try {
      decoder.decode(bytes);
    } catch (ImageDecodingException e) {
      return e.reason();
    }
    fail("expected the image to be refused");
    return null;
  }

  private static void assertColour(RgbaImage image, int x, int y, Color expected, int tolerance) {
    int i = y * image.width() + x;
    String at = "pixel (" + x + "," + y + ") was rgb(" + image.red(i) + "," + image.green(i) + ","
        + image.blue(i) + "), expected " + expected;
    assertEquals(expected.getRed(), image.red(i), tolerance, at);
    assertEquals(expected.getGreen(), image.green(i), tolerance, at);
    assertEquals(expected.getBlue(), image.blue(i), tolerance, at);
  }
}
