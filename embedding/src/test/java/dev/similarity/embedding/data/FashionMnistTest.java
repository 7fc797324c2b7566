package dev.similarity.embedding.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

  private static FashionMnist test;

  @BeforeAll
  static void load() {
    test = FashionMnist.load(FashionMnist.Split.TEST);
  }

  @Test
  void testSplitHasTenThousandImagesAThousandPerCategory() {
    assertEquals(10_000, test.size());
    int[] counts = new int[FashionMnist.CLASSES];
    for (int i = 0; i < test.size(); i++) {
      counts[test.label(i)]++;
    }
    for (int count : counts) {
      assertEquals(1000, count);
    }
    assertEquals(FashionMnist.PIXELS, test.pixels(0).length);
  }

  @Test
  void pngHoldsExactlyThePixels() throws Exception {
    for (int i : new int[] {0, 1, 9_999}) {
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(test.png(i)));
      assertEquals(28, image.getWidth());
      assertEquals(BufferedImage.TYPE_BYTE_GRAY, image.getType());
      byte[] decoded = (byte[]) image.getRaster().getDataElements(0, 0, 28, 28, null);
      assertArrayEquals(test.pixels(i), decoded);
    }
  }

  @Test
  void namesCategories() {
    assertEquals("T-shirt/top", FashionMnist.categoryName(0));
    assertEquals("Ankle boot", FashionMnist.categoryName(9));
    assertThrows(IndexOutOfBoundsException.class, () -> FashionMnist.categoryName(10));
  }

  @Test
  void missingFilesNameThePackageToInstall(@TempDir Path empty) {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> FashionMnist.load(empty, FashionMnist.Split.TRAIN));
    assertTrue(e.getMessage().contains("apt-get install dataset-fashion-mnist"), e.getMessage());
    assertTrue(e.getMessage().contains("train-images-idx3-ubyte.gz"), e.getMessage());
  }

  @Test
  void parsesSplitNames() {
    assertEquals(FashionMnist.Split.TEST, FashionMnist.Split.parse("t10k"));
    assertEquals(FashionMnist.Split.TRAIN, FashionMnist.Split.parse("TRAIN"));
    assertThrows(IllegalArgumentException.class, () -> FashionMnist.Split.parse("validation"));
  }
}
