package dev.similarity.embedding.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;

import com.twelvemonkeys.imageio.color.ColorProfiles;
import com.twelvemonkeys.imageio.metadata.CompoundDirectory;
import com.twelvemonkeys.imageio.metadata.Directory;
import com.twelvemonkeys.imageio.metadata.Entry;
import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import com.twelvemonkeys.imageio.metadata.tiff.TIFFReader;
import com.twelvemonkeys.imageio.stream.ByteArrayImageInputStream;
import dev.similarity.embedding.ImageMetadata;
import java.awt.color.ICC_Profile;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32;
import javax.imageio.stream.ImageInputStream;
import javax.xml.XMLConstants;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.parsers.SAXParserFactory;
import org.xml.sax.SAXException;
import org.xml.sax.helpers.DefaultHandler;

/**
 * Reads and checks the metadata blocks an encoded image carries before its pixel data, before any
 * pixel is decoded: the EXIF orientation, and whether each ICC profile, EXIF block and XMP packet
 * is intact.
 *
 * <p>Invariant: the image reader never sees a block found damaged here. Damaged blocks are cut
 * out of the bytes handed to the reader (which then falls back exactly as for an image without
 * them: sRGB, orientation 1), so whatever the reader still reports afterwards is about the pixel
 * data. Checks use the libraries the reader uses: TwelveMonkeys' {@code ColorProfiles.readProfile}
 * (parses the profile and converts a colour through it) and {@code TIFFReader}.
 *
 * <p>What is read per format:
 * <ul>
 *   <li>JPEG, segments before the first scan: APP2 {@code ICC_PROFILE} chunks (all present, numbered
 *       1..n of n, one profile whose component count matches the frame's), the first APP1
 *       {@code Exif} (orientation; IFD0 must be readable and the tag, if present, 1..8), the
 *       first APP1 XMP packet (well-formed XML).</li>
 *   <li>PNG, chunks before the first {@code IDAT}: {@code eXIf} (CRC and orientation). The PNG
 *       reader is run without metadata, so {@code iCCP} and text chunks are never read (and
 *       never applied: PNGs are taken as sRGB).</li>
 *   <li>WebP: the {@code ICCP} chunk the {@code VP8X} header announces (an RGB profile). Its
 *       EXIF and XMP come after the image data, where browsers and CSS Images 3 ignore them.</li>
 *   <li>GIF, BMP: nothing.</li>
 * </ul>
 */
final class MetadataBlocks {

  private static final byte[] JPEG_EXIF = "Exif\0".getBytes(US_ASCII); // then one pad byte
  private static final byte[] JPEG_XMP = "http://ns.adobe.com/xap/1.0/\0".getBytes(US_ASCII);
  private static final byte[] JPEG_ICC = "ICC_PROFILE\0".getBytes(US_ASCII); // then chunk number, count
  private static final int PNG_IDAT = 0x49444154;
  private static final int PNG_EXIF = 0x65584966;
  private static final int WEBP_ICC_FLAG = 0x20;

  /** Returned by the orientation readers for a block whose orientation cannot be read. */
  private static final int UNREADABLE = 0;

  /**
   * What the decoder needs from an image's metadata.
   *
   * @param bytes the image to hand to the reader: the input itself, or a copy without the
   *     damaged blocks
   * @param orientation the EXIF orientation, 1..8 (1 without a usable EXIF block)
   * @param ignored the damaged blocks, which {@code bytes} no longer carries
   */
  record Result(byte[] bytes, int orientation, Set<ImageMetadata> ignored) {
    Result {
      ignored = Set.copyOf(ignored);
    }

    static Result plain(byte[] bytes) {
      return new Result(bytes, ExifOrientation.NORMAL, Set.of());
    }
  }

  /** A block's place in the input: {@code [start, end)}, its payload from {@code payload}. */
  private record Block(int start, int end, int payload) {}

  private MetadataBlocks() {}

  /**
   * Reads the metadata of {@code bytes}, an image the reader for {@code format} (upper case:
   * JPEG, PNG, GIF, BMP, WEBP) claimed. Never fails: a block that cannot be parsed is damaged,
   * and a container whose structure breaks off is left for the reader to refuse.
   */
  static Result read(String format, byte[] bytes) {
    return switch (format) {
      case "JPEG" -> jpeg(bytes);
      case "PNG" -> png(bytes);
      case "WEBP" -> webp(bytes);
      default -> Result.plain(bytes);
    };
  }

  private static Result jpeg(byte[] b) {
    List<Block> icc = new ArrayList<>();
    Block exif = null;
    Block xmp = null;
    int frameComponents = 0;
    int pos = 2; // after SOI
    while (pos + 4 <= b.length) {
      if ((b[pos] & 0xFF) != 0xFF) {
        break; // not a marker: the structure is the reader's to judge
      }
      int marker = b[pos + 1] & 0xFF;
      if (marker == 0xFF) {
        pos++; // fill byte
        continue;
      }
      if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        pos += 2; // markers without a length
        continue;
      }
      if (marker == 0xDA || marker == 0xD9) {
        break; // start of scan, end of image: no metadata is read beyond this point
      }
      int length = u16be(b, pos + 2);
      int end = pos + 2 + length;
      if (length < 2 || end > b.length) {
        break;
      }
      Block block = new Block(pos, end, pos + 4);
      if (marker == 0xE1 && exif == null && startsWith(b, block, JPEG_EXIF)) {
        exif = block;
      } else if (marker == 0xE1 && xmp == null && startsWith(b, block, JPEG_XMP)) {
        xmp = block;
      } else if (marker == 0xE2 && startsWith(b, block, JPEG_ICC)) {
        icc.add(block);
      } else if (isStartOfFrame(marker) && length >= 8) {
        frameComponents = b[pos + 9] & 0xFF;
      }
      pos = end;
    }

    Set<ImageMetadata> ignored = EnumSet.noneOf(ImageMetadata.class);
    List<Block> damaged = new ArrayList<>();
    int orientation = ExifOrientation.NORMAL;
    if (exif != null) {
      orientation = orientation(b, exif.payload() + JPEG_EXIF.length + 1, exif.end());
      if (orientation == UNREADABLE) {
        orientation = ExifOrientation.NORMAL;
        ignored.add(ImageMetadata.EXIF);
        damaged.add(exif);
      }
    }
    if (xmp != null && !isWellFormedXml(b, xmp.payload() + JPEG_XMP.length, xmp.end())) {
      ignored.add(ImageMetadata.XMP);
      damaged.add(xmp);
    }
    if (!icc.isEmpty() && !isUsableJpegProfile(b, icc, frameComponents)) {
      ignored.add(ImageMetadata.ICC_PROFILE);
      damaged.addAll(icc);
    }
    return new Result(damaged.isEmpty() ? b : without(b, damaged), orientation, ignored);
  }

  private static boolean isStartOfFrame(int marker) {
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
  }

  // ICC.1 annex B.4: a profile too long for one segment is split over several, each numbered
  // 1..n and carrying n; a reader must reassemble them in number order.
  private static boolean isUsableJpegProfile(byte[] b, List<Block> chunks, int frameComponents) {
    int count = chunks.size();
    Block[] inOrder = new Block[count];
    for (Block chunk : chunks) {
      int header = chunk.payload() + JPEG_ICC.length;
      if (header + 2 > chunk.end()) {
        return false;
      }
      int number = b[header] & 0xFF;
      int total = b[header + 1] & 0xFF;
      if (total != count || number < 1 || number > count || inOrder[number - 1] != null) {
        return false; // a chunk is missing, repeated or misnumbered
      }
      inOrder[number - 1] = chunk;
    }
    ByteArrayOutputStream profile = new ByteArrayOutputStream();
    for (Block chunk : inOrder) {
      int data = chunk.payload() + JPEG_ICC.length + 2;
      profile.write(b, data, chunk.end() - data);
    }
    return isUsableProfile(profile.toByteArray(), frameComponents);
  }

  /**
   * True if {@code data} holds a whole ICC profile (trailing padding allowed) that converts
   * colours and, unless {@code components} is 0, has that many colour components.
   */
  private static boolean isUsableProfile(byte[] data, int components) {
    try {
      ICC_Profile profile = ColorProfiles.readProfile(new ByteArrayInputStream(data));
      return components == 0 || profile.getNumComponents() == components;
    } catch (IOException | RuntimeException e) {
      // IllegalArgumentException for a malformed or truncated profile, CMMException or
      // ProfileDataException when the colour management module cannot use it.
      return false;
    }
  }

  private static Result png(byte[] b) {
    int pos = 8; // after the signature; each chunk: length, type, data, CRC
    while (pos + 12 <= b.length) {
      long length = u32be(b, pos);
      if (length > b.length - pos - 12L) {
        break;
      }
      int type = (int) u32be(b, pos + 4);
      if (type == PNG_IDAT) {
        break; // an eXIf after the image data is ignored, as browsers do
      }
      int end = pos + 8 + (int) length;
      if (type == PNG_EXIF) {
        CRC32 crc = new CRC32();
        crc.update(b, pos + 4, end - pos - 4);
        int orientation = crc.getValue() == u32be(b, end) ? orientation(b, pos + 8, end) : UNREADABLE;
        return orientation == UNREADABLE
            ? new Result(b, ExifOrientation.NORMAL, Set.of(ImageMetadata.EXIF))
            : new Result(b, orientation, Set.of());
      }
      pos = end + 4;
    }
    return Result.plain(b);
  }

  // RIFF container: "RIFF", size, "WEBP", then chunks of FourCC, little-endian size and data
  // padded to an even length. An extended file starts with VP8X, whose flags announce an ICCP
  // chunk, which must follow it directly.
  private static Result webp(byte[] b) {
    long header = b.length < 30 ? 0 : u32le(b, 16);
    if (!fourCc(b, 12, "VP8X") || header < 10 || header > b.length || (b[20] & WEBP_ICC_FLAG) == 0) {
      return Result.plain(b);
    }
    int iccp = 20 + padded(header);
    Block chunk = null;
    if (iccp + 8 <= b.length && fourCc(b, iccp, "ICCP")) {
      long size = u32le(b, iccp + 4);
      if (size <= b.length - iccp - 8L) {
        chunk = new Block(iccp, (int) Math.min(b.length, iccp + 8 + padded(size)), iccp + 8);
        byte[] data = new byte[(int) size];
        System.arraycopy(b, chunk.payload(), data, 0, data.length);
        if (isUsableProfile(data, 3)) { // the WebP reader applies RGB profiles only
          return Result.plain(b);
        }
      }
    }
    // Damaged or missing: drop the chunk and clear the flag, so the reader looks for no profile.
    byte[] out = chunk == null ? b.clone() : without(b, List.of(chunk));
    out[20] &= (byte) ~WEBP_ICC_FLAG;
    putU32le(out, 4, u32le(b, 4) - (b.length - out.length));
    return new Result(out, ExifOrientation.NORMAL, Set.of(ImageMetadata.ICC_PROFILE));
  }

  /**
   * The Orientation tag of the TIFF structure in {@code b[from, to)} (an EXIF block): 1..8, 1 when
   * its first IFD has none, {@link #UNREADABLE} when that IFD cannot be read or the tag's value is
   * not one of the eight. Damage elsewhere in the block (other IFDs, other tags) is not looked at.
   */
  private static int orientation(byte[] b, int from, int to) {
    if (from >= to) {
      return UNREADABLE;
    }
    try (ImageInputStream in = new ByteArrayImageInputStream(b, from, to - from)) {
      // TIFFReader skips an IFD whose offset is out of range or that ends early: none is left then.
      Directory tiff = new TIFFReader().read(in);
      if (!(tiff instanceof CompoundDirectory ifds) || ifds.directoryCount() == 0) {
        return UNREADABLE;
      }
      Entry entry = ifds.getDirectory(0).getEntryById(TIFF.TAG_ORIENTATION);
      if (entry == null) {
        return ExifOrientation.NORMAL;
      }
      // A value stored out of range is read as its EOFException; a count above 1 as an array.
      Object value = entry.getValue();
      boolean integral = value instanceof Integer || value instanceof Short || value instanceof Long;
      int orientation = integral ? ((Number) value).intValue() : UNREADABLE;
      return ExifOrientation.isValid(orientation) ? orientation : UNREADABLE;
    } catch (IOException | RuntimeException e) {
      return UNREADABLE;
    }
  }

  private static boolean isWellFormedXml(byte[] b, int from, int to) {
    while (to > from && b[to - 1] == 0) {
      to--; // some writers pad the packet with NULs, which XML does not allow
    }
    if (to == from) {
      return false;
    }
    try {
      SAXParserFactory factory = SAXParserFactory.newDefaultInstance();
      factory.setNamespaceAware(true);
      // XMP has no DTD: refusing one rules out entity expansion and external fetches.
      factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      factory.newSAXParser().parse(new ByteArrayInputStream(b, from, to - from), new DefaultHandler());
      return true;
    } catch (SAXException | IOException e) {
      return false;
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException("the JDK's XML parser lacks a standard feature", e);
    }
  }

  /** {@code b} without the given blocks (which do not overlap). */
  private static byte[] without(byte[] b, List<Block> blocks) {
    List<Block> sorted = new ArrayList<>(blocks);
    sorted.sort(Comparator.comparingInt(Block::start));
    ByteArrayOutputStream out = new ByteArrayOutputStream(b.length);
    int pos = 0;
    for (Block block : sorted) {
      out.write(b, pos, block.start() - pos);
      pos = block.end();
    }
    out.write(b, pos, b.length - pos);
    return out.toByteArray();
  }

  private static boolean startsWith(byte[] b, Block block, byte[] prefix) {
    if (block.end() - block.payload() < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b[block.payload() + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean fourCc(byte[] b, int at, String fourCc) {
    return at + 4 <= b.length && new String(b, at, 4, US_ASCII).equals(fourCc);
  }

  private static int padded(long size) {
    return (int) Math.min(Integer.MAX_VALUE - 1, size + (size & 1));
  }

  private static int u16be(byte[] b, int at) {
    return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
  }

  private static long u32be(byte[] b, int at) {
    return (long) (b[at] & 0xFF) << 24 | (b[at + 1] & 0xFF) << 16 | (b[at + 2] & 0xFF) << 8 | (b[at + 3] & 0xFF);
  }

  private static long u32le(byte[] b, int at) {
    return (long) (b[at + 3] & 0xFF) << 24 | (b[at + 2] & 0xFF) << 16 | (b[at + 1] & 0xFF) << 8 | (b[at] & 0xFF);
  }

  private static void putU32le(byte[] b, int at, long value) {
    for (int i = 0; i < 4; i++) {
      b[at + i] = (byte) (value >>> (8 * i));
    }
  }
}
