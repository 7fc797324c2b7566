package dev.similarity.embedding.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.embedding.data.FashionMnist;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PhotoQueriesTest {

  private static FashionMnist test;

  @BeforeAll
  static void load() {
    test = FashionMnist.load(FashionMnist.Split.TEST);
  }

  @Test
  void theSameSeedGivesTheSameBytesInAnyOrder() {
    PhotoQueries first = new PhotoQueries(test, 1000, 7);
    PhotoQueries second = new PhotoQueries(test, 1000, 7);
    int[] items = first.queryItems(5);
    assertArrayEquals(items, second.queryItems(5));
    byte[][] forward = new byte[5][];
    for (int q = 0; q < 5; q++) {
      forward[q] = first.render(q, items[q]).jpeg();
    }
    for (int q = 4; q >= 0; q--) {
      assertArrayEquals(forward[q], second.render(q, items[q]).jpeg(), "photo " + q);
    }
  }

  @Test
  void anotherSeedGivesOtherPhotosAndItems() {
    PhotoQueries a = new PhotoQueries(test, 1000, 7);
    PhotoQueries b = new PhotoQueries(test, 1000, 8);
    assertFalse(Arrays.equals(a.queryItems(20), b.queryItems(20)));
    assertFalse(Arrays.equals(a.render(0, 3).jpeg(), b.render(0, 3).jpeg()));
    assertFalse(Arrays.equals(a.render(0, 3).jpeg(), a.render(1, 3).jpeg()), "two photos of one item differ");
  }

  @Test
  void queryItemsAreDistinctCatalogueImages() {
    int[] items = new PhotoQueries(test, 500, 1).queryItems(500);
    assertEquals(500, Arrays.stream(items).distinct().count());
    assertTrue(Arrays.stream(items).allMatch(i -> i >= 0 && i < 500));
  }

  @Test
  void aPhotoIsAColourJpegOfAFewHundredPixelsWithTheProductInIt() throws Exception {
    PhotoQueries.Photo photo = new PhotoQueries(test, 1000, 3).render(0, 42);
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(photo.jpeg()));
    assertNotNull(image, "decodes as JPEG");
    assertEquals(photo.width(), image.getWidth());
    assertEquals(photo.height(), image.getHeight());
    assertTrue(photo.width() >= PhotoQueries.MIN_SIDE && photo.width() <= PhotoQueries.MAX_SIDE);
    assertEquals(test.label(42), photo.label());
    PhotoQueries.Box box = photo.productBox();
    assertTrue(box.x0() >= 0 && box.y0() >= 0 && box.x1() <= photo.width() && box.y1() <= photo.height());
    // The product fills half or more of the shorter side (before rotation and ink margins).
    assertTrue(Math.max(box.width(), box.height()) >= 0.4 * Math.min(photo.width(), photo.height()), box.toString());
    assertTrue(hasColour(image), "tinted, not grey");
  }

  private static boolean hasColour(BufferedImage image) {
    int coloured = 0;
    for (int y = 0; y < image.getHeight(); y += 4) {
      for (int x = 0; x < image.getWidth(); x += 4) {
        int rgb = image.getRGB(x, y);
        int r = rgb >> 16 & 0xFF;
        int g = rgb >> 8 & 0xFF;
        int b = rgb & 0xFF;
        if (Math.max(r, Math.max(g, b)) - Math.min(r, Math.min(g, b)) > 30) {
          coloured++;
        }
      }
    }
    return coloured > 100;
  }
}
