package dev.similarity.embedding.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.embedding.evaluation.PhotoQueries.Box;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ObjectCropTest {

  private final ObjectCrop crop = new ObjectCrop();

  @Test
  void findsAKnownBoxOnAStripedBackground() {
    // 300 x 240 diagonal stripes of two greens; a red ellipse filling [90, 200) x [60, 190).
    BufferedImage image = stripedWithEllipse();
    Box truth = new Box(90, 60, 200, 190);
    Box found = crop.locate(image);
    assertTrue(found.x0() <= truth.x0() + 3 && found.y0() <= truth.y0() + 3 && found.x1() >= truth.x1() - 3
        && found.y1() >= truth.y1() - 3, "covers the object: " + found);
    assertTrue(found.iou(truth) >= 0.75, "tight around it: " + found + " IoU " + found.iou(truth));
    BufferedImage cropped = crop.crop(image);
    assertEquals(found.width(), cropped.getWidth());
    assertEquals(found.height(), cropped.getHeight());
  }

  @Test
  void aCutoutPaintsTheBackgroundAroundTheObjectBlack() {
    BufferedImage image = stripedWithEllipse();
    BufferedImage cut = crop.cutout(image);
    Box box = crop.locate(image);
    // A corner of the box is stripes, outside the ellipse: black. The ellipse's centre keeps its hue.
    assertEquals(0, cut.getRGB(0, 0) & 0xFFFFFF);
    int centre = cut.getRGB(145 - box.x0(), 125 - box.y0());
    assertTrue((centre >> 16 & 0xFF) > 200 && (centre >> 8 & 0xFF) < 100, Integer.toHexString(centre));
  }

  private static BufferedImage stripedWithEllipse() {
    BufferedImage image = new BufferedImage(300, 240, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 240; y++) {
      for (int x = 0; x < 300; x++) {
        double ex = (x + 0.5 - 145) / 55.0;
        double ey = (y + 0.5 - 125) / 65.0;
        image.setRGB(x, y, ex * ex + ey * ey <= 1 ? 0xC83020 : ((x + y) / 10 % 2 == 0 ? 0x2E7D32 : 0x81C784));
      }
    }
    return image;
  }

  @Test
  void aPlainImageIsNotCropped() {
    BufferedImage image = new BufferedImage(200, 150, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 150; y++) {
      for (int x = 0; x < 200; x++) {
        image.setRGB(x, y, 0x808080);
      }
    }
    assertEquals(new Box(0, 0, 200, 150), crop.locate(image));
  }

  @Test
  void findsTheProductInMostGeneratedPhotos() throws Exception {
    // The localiser's padded box can at best reach IoU 1/1.12^2 = 0.80 with the product's own box.
    FashionMnist test = FashionMnist.load(FashionMnist.Split.TEST);
    PhotoQueries photos = new PhotoQueries(test, 2000, 11);
    int[] items = photos.queryItems(24);
    double sum = 0;
    for (int q = 0; q < items.length; q++) {
      PhotoQueries.Photo photo = photos.render(q, items[q]);
      BufferedImage image = ImageIO.read(new ByteArrayInputStream(photo.jpeg()));
      sum += crop.locate(image).iou(photo.productBox());
    }
    double mean = sum / items.length;
    assertTrue(mean >= 0.55, "mean IoU " + mean);
  }
}
