package dev.similarity.embedding.evaluation;

import dev.similarity.embedding.evaluation.PhotoQueries.Box;
import java.awt.image.BufferedImage;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * Finds the product in a photo and crops to it: a background-difference localiser, no detector.
 *
 * <p>The photo is shrunk to at most {@value #GRID} cells on its longer side (area average, which
 * also smooths texture grain); the cells of a {@value #BORDER}-cell frame stand for the
 * background. A cell's distance to the background is its colour distance to its third-nearest frame
 * cell (so one odd frame cell, e.g. clutter cut by the frame, does not vouch for a colour);
 * Otsu's threshold splits the distances into background and foreground; a closing joins the
 * foreground's pieces; the connected component with the best area times nearness to the centre
 * is the product, joined by smaller components whose centre lies inside its box. The box is padded
 * by {@value #PAD} of its size on each side. {@link #cutout} also paints what lies outside the
 * product's cells black, the background of the catalogue images.
 *
 * <p>It assumes what a shopper's photo of one product usually has: the product near the middle,
 * the frame mostly background. When that fails (no component, or one that covers almost
 * everything or almost nothing) it returns the whole photo, so cropping never loses the product
 * to a bad guess. Thread-safe (stateless).
 */
public final class ObjectCrop {

  static final int GRID = 96;
  static final int BORDER = 3;
  static final double PAD = 0.06;
  private static final int NEAREST = 3;
  private static final int MAX_FRAME_SAMPLES = 384;

  /** Where the product is in {@code image}, pixels; the whole image when it cannot tell. */
  public Box locate(BufferedImage image) {
    return localise(image).box();
  }

  /** {@code image} cropped to {@link #locate}'s box (a copy). */
  public BufferedImage crop(BufferedImage image) {
    return copy(image, localise(image), false);
  }

  /**
   * {@code image} cropped to {@link #locate}'s box with everything outside the product's
   * foreground cells painted black, the background of a catalogue image (a copy). When the product
   * cannot be told apart, the whole photo, unpainted.
   */
  public BufferedImage cutout(BufferedImage image) {
    return copy(image, localise(image), true);
  }

  /**
   * The product's box in pixels and its foreground cells ({@code gw x gh} grid over the photo);
   * {@code cells} is null when the whole photo is returned.
   */
  record Localisation(Box box, boolean[] cells, int gw, int gh) {}

  Localisation localise(BufferedImage image) {
    int width = image.getWidth();
    int height = image.getHeight();
    Localisation whole = new Localisation(new Box(0, 0, width, height), null, 0, 0);
    double cellSize = Math.max(1.0, (double) Math.max(width, height) / GRID);
    int gw = Math.max(1, (int) Math.round(width / cellSize));
    int gh = Math.max(1, (int) Math.round(height / cellSize));
    if (gw <= 2 * BORDER + 2 || gh <= 2 * BORDER + 2) {
      return whole;
    }
    float[] cells = shrink(image, gw, gh);
    float[] distance = backgroundDistance(cells, gw, gh);
    boolean[] mask = threshold(distance);
    mask = erode(dilate(mask, gw, gh), gw, gh);
    boolean[] product = new boolean[mask.length];
    int[] box = productCells(mask, gw, gh, product);
    if (box == null) {
      return whole;
    }
    double sx = (double) width / gw;
    double sy = (double) height / gh;
    double bx0 = box[0] * sx;
    double by0 = box[1] * sy;
    double bx1 = (box[2] + 1) * sx;
    double by1 = (box[3] + 1) * sy;
    double padX = (bx1 - bx0) * PAD;
    double padY = (by1 - by0) * PAD;
    int x0 = (int) Math.max(0, Math.floor(bx0 - padX));
    int y0 = (int) Math.max(0, Math.floor(by0 - padY));
    int x1 = (int) Math.min(width, Math.ceil(bx1 + padX));
    int y1 = (int) Math.min(height, Math.ceil(by1 + padY));
    return x1 > x0 && y1 > y0 ? new Localisation(new Box(x0, y0, x1, y1), product, gw, gh) : whole;
  }

  private static BufferedImage copy(BufferedImage image, Localisation where, boolean paintBackground) {
    Box box = where.box();
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

  // Area average into gw x gh cells, RGB floats.
  private static float[] shrink(BufferedImage image, int gw, int gh) {
    int width = image.getWidth();
    int height = image.getHeight();
    double[] sums = new double[gw * gh * 3];
    int[] counts = new int[gw * gh];
    int[] row = new int[width];
    for (int y = 0; y < height; y++) {
      image.getRGB(0, y, width, 1, row, 0, width);
      int cy = Math.min(gh - 1, (int) ((long) y * gh / height));
      for (int x = 0; x < width; x++) {
        int cx = Math.min(gw - 1, (int) ((long) x * gw / width));
        int cell = cy * gw + cx;
        int rgb = row[x];
        sums[cell * 3] += rgb >> 16 & 0xFF;
        sums[cell * 3 + 1] += rgb >> 8 & 0xFF;
        sums[cell * 3 + 2] += rgb & 0xFF;
        counts[cell]++;
      }
    }
    float[] cells = new float[sums.length];
    for (int i = 0; i < counts.length; i++) {
      for (int c = 0; c < 3; c++) {
        cells[i * 3 + c] = counts[i] == 0 ? 0 : (float) (sums[i * 3 + c] / counts[i]);
      }
    }
    return cells;
  }

  private static float[] backgroundDistance(float[] cells, int gw, int gh) {
    int[] frame = frameCells(gw, gh);
    float[] distance = new float[gw * gh];
    float[] nearest = new float[NEAREST];
    for (int i = 0; i < distance.length; i++) {
      Arrays.fill(nearest, Float.MAX_VALUE);
      float r = cells[i * 3];
      float g = cells[i * 3 + 1];
      float b = cells[i * 3 + 2];
      for (int f : frame) {
        float dr = r - cells[f * 3];
        float dg = g - cells[f * 3 + 1];
        float db = b - cells[f * 3 + 2];
        float d = dr * dr + dg * dg + db * db;
        if (d < nearest[NEAREST - 1]) {
          int k = NEAREST - 1;
          while (k > 0 && nearest[k - 1] > d) {
            nearest[k] = nearest[k - 1];
            k--;
          }
          nearest[k] = d;
        }
      }
      distance[i] = (float) Math.sqrt(nearest[NEAREST - 1]);
    }
    return distance;
  }

  // The frame's cells, evenly thinned to at most MAX_FRAME_SAMPLES.
  private static int[] frameCells(int gw, int gh) {
    int[] all = new int[gw * gh];
    int n = 0;
    for (int y = 0; y < gh; y++) {
      for (int x = 0; x < gw; x++) {
        if (x < BORDER || y < BORDER || x >= gw - BORDER || y >= gh - BORDER) {
          all[n++] = y * gw + x;
        }
      }
    }
    int keep = Math.min(n, MAX_FRAME_SAMPLES);
    int[] out = new int[keep];
    for (int i = 0; i < keep; i++) {
      out[i] = all[(int) ((long) i * n / keep)];
    }
    return out;
  }

  // Otsu's threshold on a 256-bin histogram of the distances.
  static boolean[] threshold(float[] values) {
    float max = 0;
    for (float v : values) {
      max = Math.max(max, v);
    }
    boolean[] mask = new boolean[values.length];
    if (max <= 0) {
      return mask;
    }
    int bins = 256;
    long[] histogram = new long[bins];
    for (float v : values) {
      histogram[Math.min(bins - 1, (int) (v / max * bins))]++;
    }
    long total = values.length;
    double sumAll = 0;
    for (int i = 0; i < bins; i++) {
      sumAll += (double) i * histogram[i];
    }
    double sumBelow = 0;
    long below = 0;
    double bestVariance = -1;
    int best = 0;
    for (int t = 0; t < bins; t++) {
      below += histogram[t];
      sumBelow += (double) t * histogram[t];
      long above = total - below;
      if (below == 0 || above == 0) {
        continue;
      }
      double meanBelow = sumBelow / below;
      double meanAbove = (sumAll - sumBelow) / above;
      double variance = (double) below * above * (meanBelow - meanAbove) * (meanBelow - meanAbove);
      if (variance > bestVariance) {
        bestVariance = variance;
        best = t;
      }
    }
    float cut = (best + 1) * max / bins;
    for (int i = 0; i < values.length; i++) {
      mask[i] = values[i] >= cut;
    }
    return mask;
  }

  private static boolean[] dilate(boolean[] mask, int gw, int gh) {
    boolean[] out = new boolean[mask.length];
    for (int y = 0; y < gh; y++) {
      for (int x = 0; x < gw; x++) {
        boolean any = false;
        for (int dy = -1; dy <= 1 && !any; dy++) {
          for (int dx = -1; dx <= 1 && !any; dx++) {
            int xx = x + dx;
            int yy = y + dy;
            any = xx >= 0 && yy >= 0 && xx < gw && yy < gh && mask[yy * gw + xx];
          }
        }
        out[y * gw + x] = any;
      }
    }
    return out;
  }

  private static boolean[] erode(boolean[] mask, int gw, int gh) {
    boolean[] out = new boolean[mask.length];
    for (int y = 0; y < gh; y++) {
      for (int x = 0; x < gw; x++) {
        boolean all = true;
        for (int dy = -1; dy <= 1 && all; dy++) {
          for (int dx = -1; dx <= 1 && all; dx++) {
            int xx = Math.min(gw - 1, Math.max(0, x + dx));
            int yy = Math.min(gh - 1, Math.max(0, y + dy));
            all = mask[yy * gw + xx];
          }
        }
        out[y * gw + x] = all;
      }
    }
    return out;
  }

  /**
   * The product's cell box {x0, y0, x1, y1} (inclusive), or null when the mask shows no plausible
   * product: nothing, under 1 % of the photo, or over 90 % of it. Marks the product's cells (the
   * chosen components) in {@code product}.
   */
  private static int[] productCells(boolean[] mask, int gw, int gh, boolean[] product) {
    int[] component = new int[mask.length];
    Arrays.fill(component, -1);
    java.util.List<int[]> stats = new java.util.ArrayList<>();   // area, x0, y0, x1, y1, sumX, sumY
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    for (int start = 0; start < mask.length; start++) {
      if (!mask[start] || component[start] >= 0) {
        continue;
      }
      int id = stats.size();
      int[] s = {0, Integer.MAX_VALUE, Integer.MAX_VALUE, -1, -1, 0, 0};
      component[start] = id;
      queue.add(start);
      while (!queue.isEmpty()) {
        int cell = queue.poll();
        int x = cell % gw;
        int y = cell / gw;
        s[0]++;
        s[1] = Math.min(s[1], x);
        s[2] = Math.min(s[2], y);
        s[3] = Math.max(s[3], x);
        s[4] = Math.max(s[4], y);
        s[5] += x;
        s[6] += y;
        int[] neighbours = {x > 0 ? cell - 1 : -1, x < gw - 1 ? cell + 1 : -1, y > 0 ? cell - gw : -1,
            y < gh - 1 ? cell + gw : -1};
        for (int n : neighbours) {
          if (n >= 0 && mask[n] && component[n] < 0) {
            component[n] = id;
            queue.add(n);
          }
        }
      }
      stats.add(s);
    }
    double halfDiagonal = Math.hypot(gw / 2.0, gh / 2.0);
    int best = -1;
    double bestScore = 0;
    for (int i = 0; i < stats.size(); i++) {
      int[] s = stats.get(i);
      double off = Math.hypot((double) s[5] / s[0] + 0.5 - gw / 2.0, (double) s[6] / s[0] + 0.5 - gh / 2.0);
      double score = s[0] * Math.max(0.05, 1 - off / halfDiagonal);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    int cells = gw * gh;
    if (best < 0 || stats.get(best)[0] < 0.01 * cells || stats.get(best)[0] > 0.9 * cells) {
      return null;
    }
    int[] chosen = stats.get(best);
    int[] box = {chosen[1], chosen[2], chosen[3], chosen[4]};
    boolean[] joined = new boolean[stats.size()];
    for (int i = 0; i < stats.size(); i++) {
      int[] s = stats.get(i);
      double mx = (double) s[5] / s[0];
      double my = (double) s[6] / s[0];
      joined[i] = i == best || s[0] >= 0.05 * chosen[0] && mx >= chosen[1] && mx <= chosen[3] && my >= chosen[2]
          && my <= chosen[4];
      if (joined[i]) {
        box[0] = Math.min(box[0], s[1]);
        box[1] = Math.min(box[1], s[2]);
        box[2] = Math.max(box[2], s[3]);
        box[3] = Math.max(box[3], s[4]);
      }
    }
    for (int cell = 0; cell < component.length; cell++) {
      product[cell] = component[cell] >= 0 && joined[component[cell]];
    }
    return box;
  }
}
