package dev.similarity.embedding;

import dev.similarity.embedding.internal.ProductLocaliser;
import dev.similarity.embedding.internal.ProductLocaliser.Localisation;
import java.awt.image.BufferedImage;
import java.util.Objects;

/**
 * Finds the product in a shopper's photo and crops to it before the photo is embedded, so that it
 * looks more like the catalogue's images (one product, centred, on black): the "similar to this
 * photo" upload of the search service applies it, and the photo-to-catalogue evaluation measures it.
 *
 * <p>The localiser compares every part of the photo with the photo's frame (its background; see
 * {@link ProductLocaliser}) and takes the most central large region that differs, padded by 6 %.
 * {@link #crop} cuts the photo to that box; {@link #cutout} also paints what lies outside the
 * product black and stretches the product's levels, like the catalogue's white-on-black images.
 *
 * <p>It assumes what a shopper's photo of one product usually has: the product near the middle,
 * the frame mostly background. When no product can be told apart (no region, or one that covers
 * almost everything or almost nothing), or when the frame is already black (a catalogue-like image),
 * the photo is left whole, so cropping never loses the product to a bad guess and never reframes a
 * clean product image. Stateless, thread-safe.
 */
public final class ObjectCrop {

  /** What {@link #apply} did. */
  public enum Outcome {
    /** Cropped (and, for {@link CropMode#CUTOUT}, the background painted black). */
    CROPPED,
    /** No plausible product region: the whole photo, untouched. */
    NO_PRODUCT_FOUND,
    /** The frame is already black, as a catalogue image's: the whole photo, untouched. */
    CLEAN_BACKGROUND,
    /** Cropping was not asked for ({@link CropMode#OFF}). */
    OFF
  }

  /**
   * A photo after {@link #apply}.
   *
   * @param requested the mode asked for
   * @param applied what was done: {@code requested}, or {@link CropMode#OFF} when the photo was
   *     left whole ({@code outcome} says why)
   * @param box the region of the original photo that {@code image} shows, pixels (the whole photo
   *     when nothing was cropped)
   * @param image the photo to embed: a copy when cropped, else the input itself
   */
  public record Result(CropMode requested, CropMode applied, Outcome outcome, CropBox box, BufferedImage image) {}

  /** Where the product is in {@code image}, pixels; the whole image when it cannot tell. */
  public CropBox locate(BufferedImage image) {
    return ProductLocaliser.localise(image).box();
  }

  /** {@code image} cropped to {@link #locate}'s box (a copy). */
  public BufferedImage crop(BufferedImage image) {
    return copy(image, ProductLocaliser.localise(image), false);
  }

  /**
   * {@code image} cropped to {@link #locate}'s box with everything outside the product's
   * foreground cells painted black, the background of a catalogue image (a copy). When the product
   * cannot be told apart, the whole photo, unpainted.
   */
  public BufferedImage cutout(BufferedImage image) {
    return copy(image, ProductLocaliser.localise(image), true);
  }

  /** {@code image} as {@code mode} makes it, with what was done and where. */
  public Result apply(BufferedImage image, CropMode mode) {
    Objects.requireNonNull(mode, "mode");
    CropBox whole = new CropBox(0, 0, image.getWidth(), image.getHeight());
    if (mode == CropMode.OFF) {
      return new Result(mode, CropMode.OFF, Outcome.OFF, whole, image);
    }
    Localisation where = ProductLocaliser.localise(image);
    if (where.outcome() != Outcome.CROPPED) {
      return new Result(mode, CropMode.OFF, where.outcome(), whole, image);
    }
    return new Result(mode, mode, Outcome.CROPPED, where.box(), copy(image, where, mode == CropMode.CUTOUT));
  }

  private static BufferedImage copy(BufferedImage image, Localisation where, boolean paintBackground) {
    CropBox box = where.box();
    int width = image.getWidth();
    int height = image.getHeight();
    int[] row = new int[box.width()];
    BufferedImage out = new BufferedImage(box.width(), box.height(), BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < box.height(); y++) {
      image.getRGB(box.x0(), box.y0() + y, box.width(), 1, row, 0, box.width());
      if (paintBackground && where.cells() != null) {
        int cy = Math.min(where.gh() - 1, (int) ((long) (box.y0() + y) * where.gh() / height));
        for (int x = 0; x < row.length; x++) {
          int cx = Math.min(where.gw() - 1, (int) ((long) (box.x0() + x) * where.gw() / width));
          if (!where.cells()[cy * where.gw() + cx]) {
            row[x] = 0;
          }
        }
      }
      out.setRGB(0, y, box.width(), 1, row, 0, box.width());
    }
    if (paintBackground && where.cells() != null) {
      stretchLevels(out);
    }
    return out;
  }

  /**
   * Scales every channel of {@code image} by one factor so that the 98th percentile of its
   * non-black pixels' brightest channel becomes 255: a dark-tinted product shows as brightly as
   * the catalogue's white-on-black images, hues unchanged.
   */
  private static void stretchLevels(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    int[] pixels = image.getRGB(0, 0, w, h, null, 0, w);
    int[] histogram = new int[256];
    int lit = 0;
    for (int rgb : pixels) {
      int v = Math.max(rgb >> 16 & 0xFF, Math.max(rgb >> 8 & 0xFF, rgb & 0xFF));
      if ((rgb & 0xFFFFFF) != 0) {
        histogram[v]++;
        lit++;
      }
    }
    if (lit == 0) {
      return;
    }
    int level = 255;
    for (int seen = 0; level > 0; level--) {
      seen += histogram[level];
      if (seen >= lit * 0.02) {
        break;
      }
    }
    double gain = 255.0 / Math.max(level, 16);
    for (int i = 0; i < pixels.length; i++) {
      int rgb = pixels[i];
      int r = (int) Math.min(255, Math.round((rgb >> 16 & 0xFF) * gain));
      int g = (int) Math.min(255, Math.round((rgb >> 8 & 0xFF) * gain));
      int b = (int) Math.min(255, Math.round((rgb & 0xFF) * gain));
      pixels[i] = r << 16 | g << 8 | b;
    }
    image.setRGB(0, 0, w, h, pixels, 0, w);
  }

}
