package dev.similarity.embedding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.embedding.data.PhotoQueries;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@link ImageEmbedder#embed(byte[], CropMode)}: the upload path of the search service. */
class PhotoEmbeddingIT {

  private static FashionMnist test;
  private static ImageEmbedder embedder;
  private final ObjectCrop crop = new ObjectCrop();

  @BeforeAll
  static void load() {
    test = FashionMnist.load(FashionMnist.Split.TEST);
    embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(CommittedModel.dir()).build());
  }

  @AfterAll
  static void close() {
    embedder.close();
  }

  @Test
  void aCroppedPhotoEmbedsAsTheEvaluationsCroppedPngDoes() throws Exception {
    // The evaluation decodes the JPEG with ImageIO, crops it and embeds the crop as PNG bytes: the
    // numbers it reports are the upload endpoint's.
    PhotoQueries photos = new PhotoQueries(test, 1000, 2026);
    int[] items = photos.queryItems(8);
    for (int q = 0; q < items.length; q++) {
      byte[] jpeg = photos.render(q, items[q]).jpeg();
      BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(jpeg));
      for (CropMode mode : new CropMode[] {CropMode.BOX, CropMode.CUTOUT}) {
        PhotoEmbedding photo = embedder.embed(jpeg, mode);
        byte[] png = png(mode == CropMode.BOX ? crop.crop(decoded) : crop.cutout(decoded));

        assertEquals(mode, photo.crop().applied(), "photo " + q);
        assertEquals(crop.locate(decoded), photo.crop().box());
        assertArrayEquals(embedder.embed(png), photo.vector(), 1e-6f, "photo " + q + " " + mode);
      }
    }
  }

  @Test
  void offAndAPhotoLeftWholeEmbedExactlyAsTheWholeImage() throws Exception {
    byte[] catalogue = test.png(3);
    PhotoEmbedding off = embedder.embed(catalogue, CropMode.OFF);
    PhotoEmbedding cut = embedder.embed(catalogue, CropMode.CUTOUT);

    assertNull(off.crop());
    assertArrayEquals(embedder.embed(catalogue), off.vector());
    assertEquals(ObjectCrop.Outcome.CLEAN_BACKGROUND, cut.crop().outcome());
    assertEquals(CropMode.OFF, cut.crop().applied());
    assertArrayEquals(embedder.embed(catalogue), cut.vector());
  }

  @Test
  void anUndecodableUploadIsADecodingErrorWhateverTheCrop() {
    ImageDecodingException e = assertThrows(ImageDecodingException.class,
        () -> embedder.embed("not an image".getBytes(), CropMode.CUTOUT));
    assertEquals(ImageDecodingException.Reason.UNSUPPORTED_FORMAT, e.reason());
  }

  private static byte[] png(BufferedImage image) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }
}
