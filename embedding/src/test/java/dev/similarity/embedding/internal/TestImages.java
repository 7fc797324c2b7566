package dev.similarity.embedding.internal;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;

/** Builds encoded test images in memory (WebP, which ImageIO cannot write, comes from resources). */
final class TestImages {

  private TestImages() {}

  /** Left half {@code left}, right half {@code right}. */
  static BufferedImage halves(int width, int height, int type, Color left, Color right) {
    BufferedImage image = new BufferedImage(width, height, type);
    Graphics2D g = image.createGraphics();
    g.setColor(left);
    g.fillRect(0, 0, width / 2, height);
    g.setColor(right);
    g.fillRect(width / 2, 0, width - width / 2, height);
    g.dispose();
    return image;
  }

  /** 8-bit gray image whose pixel (x, y) is {@code value.applyAsInt(x, y)}. */
  static BufferedImage gray(int width, int height, java.util.function.IntBinaryOperator value) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    WritableRaster raster = image.getRaster();
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        raster.setSample(x, y, 0, value.applyAsInt(x, y));
      }
    }
    return image;
  }

  static byte[] encode(BufferedImage image, String format) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(image, format, out)) {
        throw new IllegalStateException("no ImageIO writer for " + format + " and " + image);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static byte[] progressiveJpeg(BufferedImage image) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ImageWriteParam param = writer.getDefaultWriteParam();
    param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
    return write(writer, new IIOImage(image, null, null), param);
  }

  /**
   * A 4-channel (CMYK) JPEG with an Adobe APP14 marker, as Photoshop writes them: left half white
   * (no ink), right half full black ink.
   */
  static byte[] cmykJpeg(int width, int height) {
    WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, width, height, 4, null);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        // Adobe CMYK JPEGs store inverted ink amounts: 255 = no ink.
        int k = x < width / 2 ? 255 : 0;
        raster.setPixel(x, y, new int[] {255, 255, 255, k});
      }
    }
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ImageWriteParam param = writer.getDefaultWriteParam();
    try {
      IIOMetadata metadata = writer.getDefaultImageMetadata(
          ImageTypeSpecifier.createInterleaved(ColorSpace.getInstance(ColorSpace.CS_sRGB),
              new int[] {0, 1, 2, 3}, DataBuffer.TYPE_BYTE, true, false), param);
      IIOMetadataNode root = (IIOMetadataNode) metadata.getAsTree("javax_imageio_jpeg_image_1.0");
      IIOMetadataNode markers = (IIOMetadataNode) root.getElementsByTagName("markerSequence").item(0);
      IIOMetadataNode jfif = (IIOMetadataNode) root.getElementsByTagName("app0JFIF").item(0);
      if (jfif != null) {
        jfif.getParentNode().removeChild(jfif);
      }
      IIOMetadataNode adobe = new IIOMetadataNode("app14Adobe");
      adobe.setAttribute("transform", "0");
      markers.appendChild(adobe);
      metadata.setFromTree("javax_imageio_jpeg_image_1.0", root);
      return write(writer, new IIOImage(raster, null, metadata), param);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] write(ImageWriter writer, IIOImage image, ImageWriteParam param) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream stream = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(stream);
      writer.write(null, image, param);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  /** 16-bit-per-channel RGB image, every pixel {@code (r, g, b)} in 0..65535. */
  static BufferedImage rgb16(int width, int height, int r, int g, int b) {
    ComponentColorModel model = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB),
        false, false, Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
    WritableRaster raster = model.createCompatibleWritableRaster(width, height);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        raster.setPixel(x, y, new int[] {r, g, b});
      }
    }
    return new BufferedImage(model, raster, false, null);
  }

  /** 16-bit gray image, every pixel {@code value} in 0..65535. */
  static BufferedImage gray16(int width, int height, int value) {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_USHORT_GRAY);
    WritableRaster raster = image.getRaster();
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        raster.setSample(x, y, 0, value);
      }
    }
    return image;
  }

  /** Palette image with a 2-colour palette, left half index 0, right half index 1. */
  static BufferedImage palette(int width, int height, Color first, Color second) {
    IndexColorModel model = new IndexColorModel(1, 2,
        new byte[] {(byte) first.getRed(), (byte) second.getRed()},
        new byte[] {(byte) first.getGreen(), (byte) second.getGreen()},
        new byte[] {(byte) first.getBlue(), (byte) second.getBlue()});
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_BINARY, model);
    WritableRaster raster = image.getRaster();
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        raster.setSample(x, y, 0, x < width / 2 ? 0 : 1);
      }
    }
    return image;
  }

  /** A two-frame GIF: first frame all {@code first}, second frame all {@code second}. */
  static byte[] animatedGif(int width, int height, Color first, Color second) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ImageOutputStream stream = ImageIO.createImageOutputStream(out)) {
      writer.setOutput(stream);
      writer.prepareWriteSequence(null);
      for (Color c : new Color[] {first, second}) {
        BufferedImage frame = halves(width, height, BufferedImage.TYPE_BYTE_INDEXED, c, c);
        writer.writeToSequence(new IIOImage(frame, null, null), null);
      }
      writer.endWriteSequence();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  /** A PNG that is only a signature and an IHDR announcing {@code width x height}: no pixel data. */
  static byte[] pngHeaderOnly(int width, int height) {
    ByteBuffer ihdr = ByteBuffer.allocate(13);
    ihdr.putInt(width).putInt(height).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    out.writeBytes(chunk("IHDR", ihdr.array()));
    return out.toByteArray();
  }

  static byte[] chunk(String type, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(12 + data.length);
    b.putInt(data.length);
    byte[] typeBytes = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    b.put(typeBytes).put(data);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** A BMP file header and info header announcing {@code width x height} 24-bit pixels, and no pixels. */
  static byte[] bmpHeaderOnly(int width, int height) {
    ByteBuffer b = ByteBuffer.allocate(54).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    long imageSize = (long) width * 3 * height;
    b.put((byte) 'B').put((byte) 'M').putInt((int) Math.min(Integer.MAX_VALUE, 54 + imageSize))
        .putInt(0).putInt(54);
    b.putInt(40).putInt(width).putInt(height).putShort((short) 1).putShort((short) 24).putInt(0)
        .putInt((int) Math.min(Integer.MAX_VALUE, imageSize)).putInt(2835).putInt(2835).putInt(0).putInt(0);
    return b.array();
  }

  /** A JPEG start-of-image and baseline frame header announcing {@code width x height}, then nothing. */
  static byte[] jpegHeaderOnly(int width, int height) {
    return new byte[] {
        (byte) 0xFF, (byte) 0xD8,
        (byte) 0xFF, (byte) 0xC0, 0x00, 0x11, 0x08,
        (byte) (height >> 8), (byte) height, (byte) (width >> 8), (byte) width,
        0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01};
  }

  static byte[] resource(String name) {
    try (InputStream in = TestImages.class.getResourceAsStream("/images/" + name)) {
      if (in == null) {
        throw new IllegalStateException("missing test resource images/" + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Color colour(int argb) {
    return new Color(argb, true);
  }
}
