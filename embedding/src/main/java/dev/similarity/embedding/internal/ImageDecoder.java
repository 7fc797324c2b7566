package dev.similarity.embedding.internal;

import static dev.similarity.embedding.ImageDecodingException.Reason.CORRUPT;
import static dev.similarity.embedding.ImageDecodingException.Reason.EMPTY;
import static dev.similarity.embedding.ImageDecodingException.Reason.TOO_MANY_BYTES;
import static dev.similarity.embedding.ImageDecodingException.Reason.TOO_MANY_PIXELS;
import static dev.similarity.embedding.ImageDecodingException.Reason.TRUNCATED;
import static dev.similarity.embedding.ImageDecodingException.Reason.UNSUPPORTED_FORMAT;

import dev.similarity.embedding.ImageDecodingException;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.spi.IIORegistry;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Turns encoded image bytes (JPEG incl. CMYK and progressive, PNG incl. alpha, 16-bit and
 * palette, GIF's first frame, BMP, WebP) into {@link RgbaImage} display values, upright as a
 * browser shows them (EXIF orientation applied), enforcing the byte and pixel limits before any
 * pixel is decoded.
 *
 * <p>Damage to metadata is told apart from damage to pixels: {@link MetadataBlocks} checks the
 * ICC profile, EXIF and XMP blocks first and removes the damaged ones from what the reader sees;
 * only the reader's verdict on what remains can refuse the image.
 *
 * <p>Every failure is an {@link ImageDecodingException} with a {@link
 * ImageDecodingException.Reason}; decoder bugs on hostile input (runtime exceptions thrown by
 * ImageIO plugins) are reported as {@code CORRUPT} instead of escaping. Thread-safe: each call
 * uses its own reader.
 */
public final class ImageDecoder {

  private static final Set<String> SUPPORTED_FORMATS = Set.of("jpeg", "png", "gif", "bmp", "webp");

  /** Large images are decoded with ImageIO subsampling down to at least this multiple of the model input. */
  private static final int SUBSAMPLE_HEADROOM = 4;

  static {
    registerPlugins();
  }

  private final long maxImageBytes;
  private final long maxImagePixels;
  private final int targetWidth;
  private final int targetHeight;

  /**
   * @param maxImageBytes inputs longer than this are refused unread
   * @param maxImagePixels images whose header announces more pixels are refused before decoding
   * @param targetWidth model input width, used to subsample very large images while decoding
   * @param targetHeight model input height
   */
  public ImageDecoder(long maxImageBytes, long maxImagePixels, int targetWidth, int targetHeight) {
    this.maxImageBytes = maxImageBytes;
    this.maxImagePixels = maxImagePixels;
    this.targetWidth = targetWidth;
    this.targetHeight = targetHeight;
  }

  /**
   * A decoder that never subsamples: every pixel of an image within {@code maxImagePixels}, for
   * work that needs the full photo (the object crop) before the model's own resize.
   */
  public static ImageDecoder fullResolution(long maxImageBytes, long maxImagePixels) {
    // subsampling() divides by SUBSAMPLE_HEADROOM * target: a target this large keeps it at 1.
    int unbounded = Integer.MAX_VALUE / SUBSAMPLE_HEADROOM;
    return new ImageDecoder(maxImageBytes, maxImagePixels, unbounded, unbounded);
  }

  // ImageIO finds plugins through the class loader that first touched it; in a Flink task the
  // TwelveMonkeys jars may sit in a child loader, so register their providers explicitly.
  private static void registerPlugins() {
    IIORegistry registry = IIORegistry.getDefaultInstance();
    registry.registerServiceProvider(new com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi());
    registry.registerServiceProvider(new com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi());
    registry.registerServiceProvider(new com.twelvemonkeys.imageio.plugins.bmp.BMPImageReaderSpi());
  }

  /**
   * Decodes {@code bytes} to the image as shown: the EXIF orientation of a JPEG or PNG is applied
   * (width and height swap for orientations 5 to 8). Damaged metadata (an ICC profile, EXIF block
   * or XMP packet) never refuses an image: it is ignored and named in {@link
   * RgbaImage#ignoredMetadata()}.
   *
   * @return an image of at most {@code maxImagePixels}, never empty
   * @throws ImageDecodingException when the bytes are empty, over a limit, of no supported format,
   *     or their pixel data is truncated or damaged
   */
  public RgbaImage decode(byte[] bytes) throws ImageDecodingException {
    if (bytes == null || bytes.length == 0) {
      throw new ImageDecodingException(EMPTY, "image is empty (0 bytes)");
    }
    if (bytes.length > maxImageBytes) {
      throw new ImageDecodingException(TOO_MANY_BYTES, "image is " + size(bytes.length)
          + ", over maxImageBytes (" + size(maxImageBytes) + "); raise maxImageBytes to accept it");
    }
    ImageReader reader = null;
    try {
      reader = readerFor(bytes);
      String format = reader.getFormatName().toUpperCase(Locale.ROOT);
      // The reader gets the image without the metadata blocks found damaged, so that what it
      // reports below is about the pixel data.
      MetadataBlocks.Result metadata = MetadataBlocks.read(format, bytes);
      RgbaImage stored = decodePixels(reader, format, metadata.bytes(), metadata.orientation());
      return ExifOrientation.upright(stored, metadata.orientation()).withIgnoredMetadata(metadata.ignored());
    } catch (IOException e) {
      throw new ImageDecodingException(CORRUPT, "cannot read image: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      // A plugin bug on hostile input must reach the caller as a decoding error, not a crash.
      throw new ImageDecodingException(CORRUPT, "the decoder failed on this image: " + describe(e), e);
    } finally {
      if (reader != null) {
        reader.dispose();
      }
    }
  }

  /** The pixels of {@code bytes} as stored; {@code orientation} only steers subsampling. */
  private RgbaImage decodePixels(ImageReader reader, String format, byte[] bytes, int orientation)
      throws ImageDecodingException, IOException {
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      reader.setInput(in, true, true);
      int width;
      int height;
      try {
        width = reader.getWidth(0);
        height = reader.getHeight(0);
      } catch (IOException | RuntimeException e) {
        throw failure(format, "header", e, false);
      }
      if (width <= 0 || height <= 0) {
        throw new ImageDecodingException(CORRUPT, format + " header announces " + width + "x"
            + height + " pixels");
      }
      long pixels = (long) width * height;
      if (pixels > maxImagePixels) {
        throw new ImageDecodingException(TOO_MANY_PIXELS, format + " header announces " + width
            + "x" + height + " = " + megapixels(pixels) + ", over maxImagePixels ("
            + megapixels(maxImagePixels) + "); raise maxImagePixels to accept it");
      }
      List<String> warnings = new ArrayList<>();
      reader.addIIOReadWarningListener(collect(warnings));
      ImageReadParam param = reader.getDefaultReadParam();
      boolean swapped = ExifOrientation.swapsAxes(orientation);
      int subsampling = subsampling(swapped ? height : width, swapped ? width : height);
      if (subsampling > 1) {
        param.setSourceSubsampling(subsampling, subsampling, 0, 0);
      }
      BufferedImage image;
      try {
        image = reader.read(0, param);
      } catch (IOException | RuntimeException e) {
        throw failure(format, "pixel data", e, consumedAll(in, bytes.length));
      }
      for (String warning : warnings) {
        if (isTruncationWarning(warning)) {
          throw new ImageDecodingException(TRUNCATED, format + " data ends early (" + warning + ")");
        }
      }
      if (format.equals("JPEG") && !hasEndOfImageMarker(bytes)) {
        throw new ImageDecodingException(TRUNCATED, "JPEG data ends early: no end-of-image marker (FFD9)");
      }
      return toRgba(image);
    }
  }

  // Only the five supported formats: other ImageIO readers (TIFF, WBMP, ...) widen the attack
  // surface, and WBMP's format check is loose enough to claim bytes that are not images.
  private static ImageReader readerFor(byte[] bytes) throws ImageDecodingException, IOException {
    String other = null;
    // The readers are tried against the stream lazily, while iterating.
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      while (readers.hasNext()) {
        ImageReader reader = readers.next();
        String format = reader.getFormatName().toLowerCase(Locale.ROOT);
        if (SUPPORTED_FORMATS.contains(format)) {
          return reader;
        }
        other = other == null ? format.toUpperCase(Locale.ROOT) : other;
        reader.dispose();
      }
    }
    String head = HexFormat.ofDelimiter(" ").formatHex(bytes, 0, Math.min(8, bytes.length));
    throw new ImageDecodingException(UNSUPPORTED_FORMAT, "image bytes (" + bytes.length
        + " bytes starting " + head + ") are " + (other == null ? "not" : other + ", not")
        + " JPEG, PNG, GIF, BMP or WebP");
  }

  private int subsampling(int width, int height) {
    int byWidth = width / (SUBSAMPLE_HEADROOM * targetWidth);
    int byHeight = height / (SUBSAMPLE_HEADROOM * targetHeight);
    return Math.max(1, Math.min(byWidth, byHeight));
  }

  // A decoder that failed after reading every byte ran out of data, whatever its message says
  // (GIF's reads "Invalid block length for LZW encoded image data").
  private static boolean consumedAll(ImageInputStream in, int length) {
    try {
      return in.getStreamPosition() >= length;
    } catch (IOException e) {
      return false;
    }
  }

  private static ImageDecodingException failure(String format, String part, Throwable e, boolean consumedAll) {
    if (consumedAll || isTruncation(e)) {
      return new ImageDecodingException(TRUNCATED, format + " " + part + " ends early: " + describe(e), e);
    }
    return new ImageDecodingException(CORRUPT, format + " " + part + " is damaged: " + describe(e), e);
  }

  private static boolean isTruncation(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof EOFException) {
        return true;
      }
      String message = t.getMessage();
      if (message != null && isTruncationWarning(message)) {
        return true;
      }
    }
    return false;
  }

  /**
   * True for a reader message that says the data ends early. A message about a metadata block
   * ("Bad 'ICC_PROFILE' chunk(s): Truncated ICC Profile data", "Exif chunk ...") never is: a
   * truncated profile says nothing about the pixels.
   */
  static boolean isTruncationWarning(String message) {
    String m = message.toLowerCase(Locale.ROOT);
    if (m.contains("icc") || m.contains("exif") || m.contains("xmp")) {
      return false;
    }
    return m.contains("premature end") || m.contains("eof") || m.contains("end of file")
        || m.contains("truncated") || m.contains("unexpected end");
  }

  private static String describe(Throwable e) {
    String message = e.getMessage();
    Throwable cause = e.getCause();
    if (cause != null && cause != e && cause.getMessage() != null && !cause.getMessage().equals(message)) {
      message = (message == null ? "" : message + ": ") + cause.getMessage();
    }
    return message == null ? e.getClass().getSimpleName() : message;
  }

  // A complete JPEG ends with FFD9; encoders may append a few padding bytes after it.
  private static boolean hasEndOfImageMarker(byte[] bytes) {
    int from = Math.max(1, bytes.length - 512);
    for (int i = bytes.length - 1; i >= from; i--) {
      if (bytes[i] == (byte) 0xD9 && bytes[i - 1] == (byte) 0xFF) {
        return true;
      }
    }
    return false;
  }

  private static IIOReadWarningListener collect(List<String> warnings) {
    return (source, warning) -> warnings.add(warning);
  }

  /**
   * Display values of the decoded image. Grayscale rasters are read as stored: Java's
   * {@code getRGB} would treat them as linear light and brighten them, unlike browsers and unlike
   * the training data.
   */
  public static RgbaImage toRgba(BufferedImage image) {
    int width = image.getWidth();
    int height = image.getHeight();
    ColorModel model = image.getColorModel();
    Raster raster = image.getRaster();
    if (model instanceof ComponentColorModel
        && model.getColorSpace().getType() == ColorSpace.TYPE_GRAY
        && (raster.getNumBands() == 1 || raster.getNumBands() == 2)) {
      int bits = model.getComponentSize(0);
      boolean alpha = raster.getNumBands() == 2;
      byte[] gray = new byte[width * height];
      byte[] opacity = alpha ? new byte[width * height] : null;
      int[] row = new int[width];
      for (int y = 0; y < height; y++) {
        raster.getSamples(0, y, width, 1, 0, row);
        for (int x = 0; x < width; x++) {
          gray[y * width + x] = (byte) to8Bit(row[x], bits, raster.getTransferType());
        }
        if (alpha) {
          raster.getSamples(0, y, width, 1, 1, row);
          for (int x = 0; x < width; x++) {
            opacity[y * width + x] = (byte) to8Bit(row[x], model.getComponentSize(1), raster.getTransferType());
          }
        }
      }
      return RgbaImage.gray(width, height, gray, opacity);
    }
    int[] argb = new int[width * height];
    image.getRGB(0, 0, width, height, argb, 0, width);
    return RgbaImage.argb(width, height, argb, model.hasAlpha());
  }

  private static int to8Bit(int sample, int bits, int transferType) {
    if (transferType == DataBuffer.TYPE_USHORT || bits == 16) {
      return (sample * 255 + 32767) / 65535;
    }
    if (bits == 8) {
      return sample & 0xFF;
    }
    int max = (1 << bits) - 1;
    return (sample * 255 + max / 2) / max;
  }

  private static String size(long bytes) {
    if (bytes >= 1 << 20) {
      return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }
    if (bytes >= 1 << 10) {
      return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
    return bytes + " bytes";
  }

  private static String megapixels(long pixels) {
    return String.format(Locale.ROOT, "%.1f MP", pixels / 1e6);
  }
}
