package dev.similarity.embedding.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;

import com.twelvemonkeys.imageio.metadata.Entry;
import com.twelvemonkeys.imageio.metadata.exif.EXIF;
import com.twelvemonkeys.imageio.metadata.tiff.IFD;
import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import com.twelvemonkeys.imageio.metadata.tiff.TIFFEntry;
import com.twelvemonkeys.imageio.metadata.tiff.TIFFWriter;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_Profile;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Builds the metadata blocks real images carry (EXIF, ICC profiles, XMP) and puts them into
 * encoded JPEG, PNG and WebP files, well-formed or damaged on purpose; and the stored pixels of
 * an upright image for each EXIF orientation. Public for the integration tests.
 */
public final class TestMetadata {

  private TestMetadata() {}

  // ---- stored pixels for an orientation -------------------------------------------------------

  /**
   * The pixels a camera stores for {@code upright} when it writes EXIF {@code orientation}, so that
   * a viewer applying the tag shows {@code upright} again. Built from plain turns and mirrors, as
   * the EXIF specification describes each value.
   */
  public static BufferedImage storedFor(BufferedImage upright, int orientation) {
    return switch (orientation) {
      case 1 -> upright;
      case 2 -> mirrorLeftRight(upright); // shown mirrored back
      case 3 -> turnClockwise(turnClockwise(upright)); // shown turned 180 degrees
      case 4 -> mirrorTopBottom(upright);
      case 5 -> mirrorLeftRight(turnClockwise(upright)); // the transpose, its own inverse
      case 6 -> turnCounterClockwise(upright); // shown turned 90 degrees clockwise
      case 7 -> mirrorLeftRight(turnCounterClockwise(upright)); // the transverse, its own inverse
      case 8 -> turnClockwise(upright); // shown turned 90 degrees counter-clockwise
      default -> throw new IllegalArgumentException("orientation " + orientation);
    };
  }

  static BufferedImage turnClockwise(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    BufferedImage out = new BufferedImage(h, w, image.getType());
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        // The top row becomes the right column.
        out.getRaster().setDataElements(h - 1 - y, x, image.getRaster().getDataElements(x, y, null));
      }
    }
    return out;
  }

  static BufferedImage turnCounterClockwise(BufferedImage image) {
    return turnClockwise(turnClockwise(turnClockwise(image)));
  }

  static BufferedImage mirrorLeftRight(BufferedImage image) {
    int w = image.getWidth();
    BufferedImage out = new BufferedImage(w, image.getHeight(), image.getType());
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < w; x++) {
        out.getRaster().setDataElements(w - 1 - x, y, image.getRaster().getDataElements(x, y, null));
      }
    }
    return out;
  }

  static BufferedImage mirrorTopBottom(BufferedImage image) {
    return turnClockwise(turnClockwise(mirrorLeftRight(image)));
  }

  // ---- EXIF -----------------------------------------------------------------------------------

  /**
   * A TIFF structure as cameras write into EXIF blocks, written by TwelveMonkeys' TIFFWriter: IFD0
   * with Make, Orientation (SHORT) and a pointer to an EXIF sub-IFD holding DateTimeOriginal.
   */
  public static byte[] exifTiff(int orientation, ByteOrder order) {
    List<Entry> exifIfd = List.of(new TIFFEntry(EXIF.TAG_DATE_TIME_ORIGINAL, "2026:11:30 12:00:00"));
    List<Entry> ifd0 = List.of(
        new TIFFEntry(TIFF.TAG_MAKE, "Similarity Test Camera"),
        new TIFFEntry(TIFF.TAG_ORIENTATION, TIFF.TYPE_SHORT, orientation),
        new TIFFEntry(TIFF.TAG_EXIF_IFD, TIFF.TYPE_LONG, new IFD(exifIfd)));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      stream.setByteOrder(order);
      new TIFFWriter().write(ifd0, stream);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * A big-endian TIFF structure laid out by hand, IFD0 at offset 8: {@code entries} 12-byte
   * entries (tag, type, count, value or offset), then a zero next-IFD offset.
   */
  static byte[] tiff(int ifdOffset, int declaredEntries, int[]... entries) {
    ByteBuffer b = ByteBuffer.allocate(8 + 2 + 12 * entries.length + 4);
    b.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(ifdOffset);
    b.putShort((short) declaredEntries);
    for (int[] e : entries) {
      b.putShort((short) e[0]).putShort((short) e[1]).putInt(e[2]);
      if (e[1] == TIFF.TYPE_SHORT && e[2] == 1) {
        b.putShort((short) e[3]).putShort((short) 0);
      } else {
        b.putInt(e[3]);
      }
    }
    b.putInt(0);
    return b.array();
  }

  /** An APP1 segment carrying {@code tiff} as EXIF. */
  public static byte[] exifSegment(byte[] tiff) {
    return jpegSegment(0xE1, concat("Exif\0\0".getBytes(US_ASCII), tiff));
  }

  // ---- ICC --------------------------------------------------------------------------------------

  /** The bytes of one of the JDK's built-in profiles, e.g. {@link ColorSpace#CS_LINEAR_RGB}. */
  public static byte[] profile(int colorSpace) {
    return ICC_Profile.getInstance(colorSpace).getData();
  }

  /** APP2 {@code ICC_PROFILE} chunk {@code number} of {@code count}, carrying {@code data}. */
  static byte[] iccSegment(int number, int count, byte[] data) {
    return jpegSegment(0xE2, concat("ICC_PROFILE\0".getBytes(US_ASCII), new byte[] {(byte) number, (byte) count}, data));
  }

  /** {@code profile} split into {@code chunks} APP2 segments numbered 1..chunks, in order. */
  public static byte[][] iccSegments(byte[] profile, int chunks) {
    byte[][] segments = new byte[chunks][];
    int size = (profile.length + chunks - 1) / chunks;
    for (int i = 0; i < chunks; i++) {
      byte[] part = Arrays.copyOfRange(profile, Math.min(profile.length, i * size), Math.min(profile.length, (i + 1) * size));
      segments[i] = iccSegment(i + 1, chunks, part);
    }
    return segments;
  }

  // ---- XMP --------------------------------------------------------------------------------------

  /** A typical XMP packet: xpacket wrapper, x:xmpmeta, one rdf:Description. */
  static String xmpPacket() {
    return "<?xpacket begin=\"\uFEFF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
        + "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
        + "<rdf:Description rdf:about=\"\" xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\" tiff:Make=\"Test\"/>"
        + "</rdf:RDF></x:xmpmeta>\n"
        + " ".repeat(200) + "\n<?xpacket end=\"w\"?>";
  }

  /** An APP1 XMP segment carrying {@code packet} as is. */
  static byte[] xmpSegment(byte[] packet) {
    return jpegSegment(0xE1, concat("http://ns.adobe.com/xap/1.0/\0".getBytes(US_ASCII), packet));
  }

  // ---- containers -------------------------------------------------------------------------------

  /** A JPEG encoded at {@code quality} (0..1) by the JDK's writer, with its JFIF APP0. */
  public static byte[] jpeg(BufferedImage image, float quality) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ImageWriteParam param = writer.getDefaultWriteParam();
    param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionQuality(quality);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream stream = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(stream);
      writer.write(null, new IIOImage(image, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  /** A marker segment: FF, marker, big-endian length (payload + 2), payload. */
  static byte[] jpegSegment(int marker, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(4 + payload.length);
    b.put((byte) 0xFF).put((byte) marker).putShort((short) (payload.length + 2)).put(payload);
    return b.array();
  }

  /**
   * {@code jpeg} with {@code segments} inserted where writers put metadata: after the JFIF APP0
   * segment that must come first, or right after SOI when there is none.
   */
  public static byte[] withSegments(byte[] jpeg, byte[]... segments) {
    int at = insertionPoint(jpeg);
    List<byte[]> parts = new ArrayList<>();
    parts.add(Arrays.copyOf(jpeg, at));
    parts.addAll(List.of(segments));
    parts.add(Arrays.copyOfRange(jpeg, at, jpeg.length));
    return concat(parts.toArray(byte[][]::new));
  }

  /** Where {@link #withSegments} puts segments into {@code jpeg}. */
  static int insertionPoint(byte[] jpeg) {
    if ((jpeg[2] & 0xFF) == 0xFF && (jpeg[3] & 0xFF) == 0xE0) {
      return 4 + ((jpeg[4] & 0xFF) << 8 | (jpeg[5] & 0xFF));
    }
    return 2;
  }

  /** {@code png} with a chunk of {@code type} inserted right after IHDR, before the image data. */
  static byte[] withChunkAfterHeader(byte[] png, String type, byte[] data) {
    int afterIhdr = 8 + 12 + 13;
    return concat(Arrays.copyOf(png, afterIhdr), TestImages.chunk(type, data), Arrays.copyOfRange(png, afterIhdr, png.length));
  }

  /** {@code png} with a chunk of {@code type} inserted just before IEND, after the image data. */
  static byte[] withChunkBeforeEnd(byte[] png, String type, byte[] data) {
    int iend = png.length - 12;
    return concat(Arrays.copyOf(png, iend), TestImages.chunk(type, data), Arrays.copyOfRange(png, iend, png.length));
  }

  /**
   * The simple (VP8 or VP8L) {@code webp} of {@code width x height} rewritten as an extended file:
   * a VP8X header announcing an ICC profile, an ICCP chunk of {@code profile} (none when null),
   * then the original image chunk.
   */
  static byte[] webpWithProfile(byte[] webp, int width, int height, byte[] profile) {
    ByteBuffer vp8x = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
    vp8x.put((byte) 0x20).put(new byte[3]);
    vp8x.put((byte) (width - 1)).put((byte) ((width - 1) >> 8)).put((byte) ((width - 1) >> 16));
    vp8x.put((byte) (height - 1)).put((byte) ((height - 1) >> 8)).put((byte) ((height - 1) >> 16));
    byte[] body = concat("WEBP".getBytes(US_ASCII), riffChunk("VP8X", vp8x.array()),
        profile == null ? new byte[0] : riffChunk("ICCP", profile), Arrays.copyOfRange(webp, 12, webp.length));
    return riffChunk("RIFF", body);
  }

  private static byte[] riffChunk(String fourCc, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(8 + data.length + (data.length & 1)).order(ByteOrder.LITTLE_ENDIAN);
    b.put(fourCc.getBytes(US_ASCII)).putInt(data.length).put(data);
    return b.array();
  }

  static byte[][] concatAll(byte[][]... arrays) {
    return Arrays.stream(arrays).flatMap(Arrays::stream).toArray(byte[][]::new);
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
