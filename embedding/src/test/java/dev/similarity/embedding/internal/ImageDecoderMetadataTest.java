package dev.similarity.embedding.internal;

import static dev.similarity.embedding.ImageDecodingException.Reason.CORRUPT;
import static dev.similarity.embedding.ImageDecodingException.Reason.TRUNCATED;
import static dev.similarity.embedding.ImageMetadata.EXIF;
import static dev.similarity.embedding.ImageMetadata.ICC_PROFILE;
import static dev.similarity.embedding.ImageMetadata.XMP;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import dev.similarity.embedding.ImageDecodingException;
import dev.similarity.embedding.ImageEmbedderConfig;
import java.awt.Color;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Damage to metadata is not damage to pixels: an image whose ICC profile, EXIF block or XMP
 * packet is broken decodes to the same pixels as without that block, and says which block it
 * ignored; pixel data that ends early is still refused.
 */
class ImageDecoderMetadataTest {

  private static final Color RED = new Color(220, 30, 30);
  private static final Color BLUE = new Color(30, 30, 220);
  private static final byte[] LINEAR_RGB = TestMetadata.profile(ColorSpace.CS_LINEAR_RGB);
  private static final byte[] SRGB = TestMetadata.profile(ColorSpace.CS_sRGB);

  private final ImageDecoder decoder = new ImageDecoder(ImageEmbedderConfig.DEFAULT_MAX_IMAGE_BYTES,
      ImageEmbedderConfig.DEFAULT_MAX_IMAGE_PIXELS, 28, 28);

  /** The photo every case damages: 64x32, red left half, blue right half. */
  private static byte[] photo() {
    return TestMetadata.jpeg(TestImages.halves(64, 32, BufferedImage.TYPE_INT_RGB, RED, BLUE), 0.9f);
  }

  static Stream<Arguments> damagedIccProfiles() {
    byte[] wrongSizeLarger = LINEAR_RGB.clone();
    ByteBuffer.wrap(wrongSizeLarger).putInt(0, LINEAR_RGB.length + 100);
    byte[] wrongSizeSmaller = LINEAR_RGB.clone();
    ByteBuffer.wrap(wrongSizeSmaller).putInt(0, LINEAR_RGB.length - 200);
    byte[][] three = TestMetadata.iccSegments(LINEAR_RGB, 3);
    byte[] half = Arrays.copyOf(LINEAR_RGB, LINEAR_RGB.length / 2);
    return Stream.of(
        Arguments.of("profile cut in half", new byte[][] {TestMetadata.iccSegment(1, 1, half)}),
        Arguments.of("large profile cut in half", new byte[][] {TestMetadata.iccSegment(1, 1, Arrays.copyOf(SRGB, SRGB.length / 2))}),
        Arguments.of("profile header cut short", new byte[][] {TestMetadata.iccSegment(1, 1, Arrays.copyOf(LINEAR_RGB, 100))}),
        Arguments.of("garbage bytes", new byte[][] {TestMetadata.iccSegment(1, 1, noise(600))}),
        Arguments.of("declared size beyond the data", new byte[][] {TestMetadata.iccSegment(1, 1, wrongSizeLarger)}),
        Arguments.of("declared size cutting off the tags", new byte[][] {TestMetadata.iccSegment(1, 1, wrongSizeSmaller)}),
        Arguments.of("chunk 2 of 3 missing", new byte[][] {three[0], three[2]}),
        Arguments.of("chunks disagreeing on their count", new byte[][] {three[0], TestMetadata.iccSegment(2, 2, new byte[10]), three[2]}),
        Arguments.of("chunk number repeated", new byte[][] {three[0], three[0], three[2]}),
        Arguments.of("chunk numbered 0", new byte[][] {TestMetadata.iccSegment(0, 1, LINEAR_RGB)}),
        Arguments.of("segment without chunk numbers", new byte[][] {TestMetadata.jpegSegment(0xE2, "ICC_PROFILE\0".getBytes(UTF_8))}),
        Arguments.of("gray profile on a colour image", new byte[][] {TestMetadata.iccSegment(1, 1, TestMetadata.profile(ColorSpace.CS_GRAY))}));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("damagedIccProfiles")
  void damagedIccProfileIsIgnoredAndTheColoursReadAsSrgb(String damage, byte[][] segments) throws Exception {
    RgbaImage image = decoder.decode(TestMetadata.withSegments(photo(), segments));

    assertSamePixels(decoder.decode(photo()), image);
    assertColour(image, 5, 16, RED, 12);
    assertEquals(Set.of(ICC_PROFILE), image.ignoredMetadata());
  }

  // The checks must not throw good profiles away: a linear-RGB profile changes the colours.
  @Test
  void intactProfilesAreAppliedInOneChunkOrSeveralInAnyOrder() throws Exception {
    RgbaImage plain = decoder.decode(photo());
    RgbaImage whole = decoder.decode(TestMetadata.withSegments(photo(), TestMetadata.iccSegments(LINEAR_RGB, 1)));
    byte[][] three = TestMetadata.iccSegments(LINEAR_RGB, 3);
    RgbaImage shuffled = decoder.decode(TestMetadata.withSegments(photo(), three[2], three[0], three[1]));
    RgbaImage srgb = decoder.decode(TestMetadata.withSegments(photo(), TestMetadata.iccSegments(SRGB, 2)));

    assertTrue(Math.abs(whole.red(16 * 64 + 5) - plain.red(16 * 64 + 5)) > 5, "linear-RGB profile not applied");
    assertSamePixels(whole, shuffled);
    assertSamePixels(plain, srgb);
    assertTrue(whole.ignoredMetadata().isEmpty() && shuffled.ignoredMetadata().isEmpty() && srgb.ignoredMetadata().isEmpty());
  }

  static Stream<Arguments> damagedExifBlocks() {
    int orientation = TIFF.TAG_ORIENTATION;
    int shortType = TIFF.TYPE_SHORT;
    return Stream.of(
        Arguments.of("garbage instead of a TIFF header", noise(64)),
        Arguments.of("no TIFF data at all", new byte[0]),
        Arguments.of("first IFD offset beyond the block", TestMetadata.tiff(0x7F000000, 1, new int[] {orientation, shortType, 1, 6})),
        Arguments.of("first IFD offset 0", TestMetadata.tiff(0, 1, new int[] {orientation, shortType, 1, 6})),
        Arguments.of("first IFD declaring more entries than the block holds", TestMetadata.tiff(8, 40, new int[] {orientation, shortType, 1, 6})),
        Arguments.of("orientation value 9", TestMetadata.tiff(8, 1, new int[] {orientation, shortType, 1, 9})),
        Arguments.of("orientation value 0", TestMetadata.tiff(8, 1, new int[] {orientation, shortType, 1, 0})),
        Arguments.of("orientation values stored beyond the block", TestMetadata.tiff(8, 1, new int[] {orientation, shortType, 3, 0x00FFFF00})));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("damagedExifBlocks")
  void damagedExifIsIgnoredAndTheImageTakenAsStored(String damage, byte[] tiff) throws Exception {
    RgbaImage image = decoder.decode(TestMetadata.withSegments(photo(), TestMetadata.exifSegment(tiff)));

    assertSamePixels(decoder.decode(photo()), image);
    assertEquals(Set.of(EXIF), image.ignoredMetadata());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("damagedExifBlocks")
  void damagedPngExifChunkIsIgnored(String damage, byte[] tiff) throws Exception {
    byte[] png = TestImages.encode(TestImages.halves(64, 32, BufferedImage.TYPE_INT_RGB, RED, BLUE), "png");
    RgbaImage image = decoder.decode(TestMetadata.withChunkAfterHeader(png, "eXIf", tiff));

    assertSamePixels(decoder.decode(png), image);
    assertEquals(Set.of(EXIF), image.ignoredMetadata());
  }

  @Test
  void pngExifChunkWithABadChecksumIsIgnored() throws Exception {
    byte[] png = TestImages.encode(TestImages.halves(64, 32, BufferedImage.TYPE_INT_RGB, RED, BLUE), "png");
    byte[] withExif = TestMetadata.withChunkAfterHeader(png, "eXIf", TestMetadata.exifTiff(6, ByteOrder.BIG_ENDIAN));
    int crc = 8 + 25 + 8 + TestMetadata.exifTiff(6, ByteOrder.BIG_ENDIAN).length;
    withExif[crc] ^= 0x55;

    RgbaImage image = decoder.decode(withExif);

    assertEquals(64, image.width(), "a chunk failing its checksum must not turn the image");
    assertEquals(Set.of(EXIF), image.ignoredMetadata());
  }

  // Only the orientation is read: damage elsewhere in the block (here the EXIF sub-IFD pointer
  // points out of the block) neither stops the orientation nor counts as ignored metadata.
  @Test
  void exifDamagedOutsideItsOrientationStillTurnsTheImage() throws Exception {
    byte[] tiff = TestMetadata.tiff(8, 2, new int[] {TIFF.TAG_ORIENTATION, TIFF.TYPE_SHORT, 1, 6},
        new int[] {TIFF.TAG_EXIF_IFD, TIFF.TYPE_LONG, 1, 0x7FFFFFF0});

    RgbaImage image = decoder.decode(TestMetadata.withSegments(photo(), TestMetadata.exifSegment(tiff)));

    assertEquals(32, image.width());
    assertEquals(64, image.height());
    assertTrue(image.ignoredMetadata().isEmpty());
  }

  static Stream<Arguments> damagedXmpPackets() {
    String packet = TestMetadata.xmpPacket();
    return Stream.of(
        Arguments.of("packet cut in half", packet.substring(0, packet.length() / 2).getBytes(UTF_8)),
        Arguments.of("garbage bytes", noise(300)),
        Arguments.of("empty packet", new byte[0]),
        Arguments.of("entity expansion (a DTD)", ("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\">"
            + "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><x:xmpmeta xmlns:x=\"adobe:ns:meta/\">&b;</x:xmpmeta>")
            .getBytes(UTF_8)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("damagedXmpPackets")
  void damagedXmpIsIgnored(String damage, byte[] packet) throws Exception {
    RgbaImage image = decoder.decode(TestMetadata.withSegments(photo(), TestMetadata.xmpSegment(packet)));

    assertSamePixels(decoder.decode(photo()), image);
    assertEquals(Set.of(XMP), image.ignoredMetadata());
  }

  @Test
  void wellFormedXmpPaddedWithNulsIsNotReported() throws Exception {
    byte[] packet = TestMetadata.concat(TestMetadata.xmpPacket().getBytes(UTF_8), new byte[16]);
    RgbaImage image = decoder.decode(TestMetadata.withSegments(photo(), TestMetadata.xmpSegment(packet)));
    assertTrue(image.ignoredMetadata().isEmpty(), image.ignoredMetadata().toString());
  }

  @Test
  void everyDamagedBlockOfOneImageIsReported() throws Exception {
    byte[] jpeg = TestMetadata.withSegments(photo(),
        TestMetadata.exifSegment(noise(40)),
        TestMetadata.xmpSegment("<x:xmpmeta".getBytes(UTF_8)),
        TestMetadata.iccSegment(1, 1, Arrays.copyOf(LINEAR_RGB, 300)));

    RgbaImage image = decoder.decode(jpeg);

    assertSamePixels(decoder.decode(photo()), image);
    assertEquals(Set.of(ICC_PROFILE, EXIF, XMP), image.ignoredMetadata());
  }

  static Stream<Arguments> damagedWebpProfiles() {
    return Stream.of(
        Arguments.of("profile cut short", Arrays.copyOf(LINEAR_RGB, 200)),
        Arguments.of("garbage bytes", noise(300)),
        Arguments.of("gray profile", TestMetadata.profile(ColorSpace.CS_GRAY)),
        Arguments.of("announced but absent", null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("damagedWebpProfiles")
  void damagedWebpProfileIsIgnored(String damage, byte[] profile) throws Exception {
    byte[] webp = TestImages.resource("red-blue-48x32-lossy.webp");
    RgbaImage image = decoder.decode(TestMetadata.webpWithProfile(webp, 48, 32, profile));

    assertSamePixels(decoder.decode(webp), image);
    assertEquals(Set.of(ICC_PROFILE), image.ignoredMetadata());
  }

  @Test
  void intactWebpProfileIsApplied() throws Exception {
    byte[] webp = TestImages.resource("red-blue-48x32-lossy.webp");
    RgbaImage plain = decoder.decode(webp);
    RgbaImage linear = decoder.decode(TestMetadata.webpWithProfile(webp, 48, 32, LINEAR_RGB));

    assertTrue(Math.abs(linear.red(16 * 48 + 6) - plain.red(16 * 48 + 6)) > 5, "linear-RGB profile not applied");
    assertTrue(linear.ignoredMetadata().isEmpty());
  }

  // Seeded random damage anywhere inside the metadata blocks' contents (their segment lengths
  // intact) must never refuse the image: the pixel data is whole.
  @Test
  void randomDamageInsideMetadataBlocksNeverRefusesTheImage() throws Exception {
    byte[][] segments = TestMetadata.concatAll(
        new byte[][] {TestMetadata.exifSegment(TestMetadata.exifTiff(6, ByteOrder.LITTLE_ENDIAN))},
        TestMetadata.iccSegments(LINEAR_RGB, 2),
        new byte[][] {TestMetadata.xmpSegment(TestMetadata.xmpPacket().getBytes(UTF_8))});
    byte[] jpeg = TestMetadata.withSegments(photo(), segments);
    int first = TestMetadata.insertionPoint(photo());
    SplittableRandom random = new SplittableRandom(11);
    int ignored = 0;
    for (int trial = 0; trial < 100; trial++) {
      byte[] damaged = jpeg.clone();
      int start = first;
      for (byte[] segment : segments) {
        // Payload only: marker and length stay, so the file's structure is untouched.
        if (random.nextInt(2) == 0) {
          for (int flips = 1 + random.nextInt(6); flips > 0; flips--) {
            damaged[start + 4 + random.nextInt(segment.length - 4)] = (byte) random.nextInt(256);
          }
        }
        start += segment.length;
      }
      RgbaImage image = decoder.decode(damaged);
      assertTrue(image.width() * image.height() == 64 * 32, "trial " + trial);
      ignored += image.ignoredMetadata().isEmpty() ? 0 : 1;
    }
    assertTrue(ignored > 20, "only " + ignored + " of 100 damaged images reported ignored metadata");
  }

  // ---- pixel damage is still refused ----------------------------------------------------------

  @Test
  void jpegCutMidScanIsRefusedWhateverItsMetadata() {
    byte[] noisy = TestImages.encode(noise(64, 64), "jpeg");
    int scan = noisy.length / 2;
    for (byte[][] metadata : new byte[][][] {
        {TestMetadata.iccSegment(1, 1, Arrays.copyOf(LINEAR_RGB, 300))},
        TestMetadata.iccSegments(LINEAR_RGB, 2),
        {TestMetadata.exifSegment(TestMetadata.exifTiff(6, ByteOrder.BIG_ENDIAN))},
        {TestMetadata.exifSegment(noise(40)), TestMetadata.xmpSegment("<x".getBytes(UTF_8))}}) {
      byte[] whole = TestMetadata.withSegments(noisy, metadata);
      int extra = whole.length - noisy.length;
      assertEquals(TRUNCATED, reasonFor(Arrays.copyOf(whole, extra + scan)));
    }
    byte[] progressive = TestMetadata.withSegments(TestImages.progressiveJpeg(noise(64, 64)), TestMetadata.iccSegments(LINEAR_RGB, 1));
    assertEquals(TRUNCATED, reasonFor(Arrays.copyOf(progressive, progressive.length * 2 / 3)));
  }

  @Test
  void pngCutMidImageDataIsRefusedWhateverItsMetadata() {
    byte[] png = TestMetadata.withChunkAfterHeader(TestImages.encode(noise(64, 64), "png"), "eXIf",
        TestMetadata.exifTiff(6, ByteOrder.BIG_ENDIAN));
    assertEquals(TRUNCATED, reasonFor(Arrays.copyOf(png, png.length / 2)));
    byte[] damagedExif = TestMetadata.withChunkAfterHeader(TestImages.encode(noise(64, 64), "png"), "eXIf", noise(30));
    assertEquals(TRUNCATED, reasonFor(Arrays.copyOf(damagedExif, damagedExif.length / 2)));
  }

  @Test
  void webpCutMidImageDataIsRefusedWhateverItsProfile() {
    byte[] webp = TestImages.resource("red-blue-48x32-lossy.webp");
    for (byte[] profile : new byte[][] {LINEAR_RGB, Arrays.copyOf(LINEAR_RGB, 200)}) {
      byte[] extended = TestMetadata.webpWithProfile(webp, 48, 32, profile);
      ImageDecodingException.Reason reason = reasonFor(Arrays.copyOf(extended, extended.length - 40));
      assertTrue(reason == TRUNCATED || reason == CORRUPT, "was " + reason);
    }
  }

  // The reader's own words: TwelveMonkeys about a broken profile, the JDK about a cut scan.
  @Test
  void readerMessagesAboutMetadataAreNotTakenForTruncatedPixels() {
    assertFalse(ImageDecoder.isTruncationWarning("Bad 'ICC_PROFILE' chunk(s): Truncated ICC Profile data. Ignoring ICC profile."));
    assertFalse(ImageDecoder.isTruncationWarning("Exif chunk is present, but can't be read: EOF"));
    assertTrue(ImageDecoder.isTruncationWarning("Truncated File - Missing EOI marker"));
    assertTrue(ImageDecoder.isTruncationWarning("Premature end of JPEG file"));
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private ImageDecodingException.Reason reasonFor(byte[] bytes) {
    return assertThrows(ImageDecodingException.class, () -> decoder.decode(bytes)).reason();
  }

  private static byte[] noise(int length) {
    byte[] bytes = new byte[length];
    new SplittableRandom(length).nextBytes(bytes);
    return bytes;
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

  private static void assertSamePixels(RgbaImage expected, RgbaImage actual) {
    assertEquals(expected.width(), actual.width(), "width");
    assertEquals(expected.height(), actual.height(), "height");
    for (int i = 0; i < expected.width() * expected.height(); i++) {
      if (expected.red(i) != actual.red(i) || expected.green(i) != actual.green(i)
          || expected.blue(i) != actual.blue(i) || expected.alpha(i) != actual.alpha(i)) {
        throw new AssertionError("pixel " + i + " differs: rgb(" + actual.red(i) + "," + actual.green(i) + ","
            + actual.blue(i) + "), expected rgb(" + expected.red(i) + "," + expected.green(i) + "," + expected.blue(i) + ")");
      }
    }
  }

  private static void assertColour(RgbaImage image, int x, int y, Color expected, int tolerance) {
    int i = y * image.width() + x;
    assertEquals(expected.getRed(), image.red(i), tolerance);
    assertEquals(expected.getGreen(), image.green(i), tolerance);
    assertEquals(expected.getBlue(), image.blue(i), tolerance);
  }
}
