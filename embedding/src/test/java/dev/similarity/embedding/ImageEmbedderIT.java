package dev.similarity.embedding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.embedding.data.PhotoQueries;
import dev.similarity.embedding.internal.DirectSessionModel;
import dev.similarity.embedding.internal.DjlEmbeddingModel;
import dev.similarity.embedding.internal.PreparedBatch;
import dev.similarity.embedding.internal.TestMetadata;
import dev.similarity.embedding.internal.Vectors;
import java.awt.Image;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.ConfigProto;

/** The committed model served through DJL, end to end from image bytes. */
class ImageEmbedderIT {

  private static final int SUBSET = 500;
  private static FashionMnist test;
  private static ImageEmbedder embedder;

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
  void nearestNeighboursOfAFixedSubsetAreMostlyTheSameCategory() {
    List<byte[]> pngs = new ArrayList<>();
    int[] labels = new int[SUBSET];
    for (int i = 0; i < SUBSET; i++) {
      pngs.add(test.png(i));
      labels[i] = test.label(i);
    }
    List<EmbeddingResult> results = embedder.embedBatch(pngs);
    float[][] vectors = results.stream().map(EmbeddingResult::vector).toArray(float[][]::new);
    // Nearest neighbour by cosine (unit vectors: dot product), the image itself left out.
    int sameCategory = 0;
    for (int q = 0; q < SUBSET; q++) {
      int best = -1;
      float bestScore = Float.NEGATIVE_INFINITY;
      for (int c = 0; c < SUBSET; c++) {
        float score = c == q ? Float.NEGATIVE_INFINITY : Vectors.dot(vectors[q], vectors[c]);
        if (score > bestScore) {
          bestScore = score;
          best = c;
        }
      }
      if (labels[best] == labels[q]) sameCategory++;
    }
    double precisionAt1 = sameCategory / (double) SUBSET;
    // The full test split scores about 0.90 here; 500 images make a smaller, harder gallery.
    assertTrue(precisionAt1 > 0.8, "nearest neighbour same-category rate " + precisionAt1);
  }

  @Test
  void embeddingsAreUnitLengthAndMatchTheDescriptor() throws Exception {
    float[] v = embedder.embed(test.png(0));
    assertEquals(128, v.length);
    assertEquals(128, embedder.dimension());
    assertEquals(1.0, Math.sqrt(Vectors.dot(v, v)), 1e-5);
    assertEquals("fashion-mnist-similarity@1", embedder.modelId());
    assertEquals(DeviceSelection.CPU, embedder.device());
  }

  @Test
  void oneBadImageInABatchFailsAloneWithItsReason() throws Exception {
    byte[] good0 = test.png(0);
    byte[] good1 = test.png(1);
    byte[] truncated = Arrays.copyOf(test.png(2), test.png(2).length / 2);
    List<EmbeddingResult> results = embedder.embedBatch(List.of(good0, new byte[0],
        "<html>".getBytes(StandardCharsets.US_ASCII), truncated, good1));
    assertEquals(5, results.size());
    assertArrayEquals(embedder.embed(good0), results.get(0).vector(), 1e-5f);
    assertEquals(ImageDecodingException.Reason.EMPTY, results.get(1).error().reason());
    assertEquals(ImageDecodingException.Reason.UNSUPPORTED_FORMAT, results.get(2).error().reason());
    assertEquals(ImageDecodingException.Reason.TRUNCATED, results.get(3).error().reason());
    assertArrayEquals(embedder.embed(good1), results.get(4).vector(), 1e-5f);
  }

  @Test
  void batchesLongerThanMaxBatchSizeAreSplitAndKeepTheirOrder() throws Exception {
    try (ImageEmbedder small = ImageEmbedder.load(ImageEmbedderConfig.builder()
        .modelDir(CommittedModel.dir()).maxBatchSize(3).build())) {
      List<byte[]> pngs = Stream.of(10, 11, 12, 13, 14, 15, 16).map(test::png).toList();
      List<EmbeddingResult> results = small.embedBatch(pngs);
      for (int i = 0; i < pngs.size(); i++) {
        assertArrayEquals(embedder.embed(pngs.get(i)), results.get(i).vector(), 1e-5f);
      }
    }
  }

  @Test
  void undecodableInputRaisesATypedError() {
    ImageDecodingException e = assertThrows(ImageDecodingException.class, () -> embedder.embed(new byte[0]));
    assertEquals(ImageDecodingException.Reason.EMPTY, e.reason());
  }

  @Test
  void djlGivesTheSameVectorsAsTheSavedModelThroughTheSessionApi() {
    ImageEmbedderConfig config = ImageEmbedderConfig.builder().modelDir(CommittedModel.dir()).build();
    try (DjlEmbeddingModel djl = DjlEmbeddingModel.load(config);
        DirectSessionModel session = DirectSessionModel.load(config.modelDir(), ConfigProto.getDefaultInstance())) {
      PreparedBatch batch = djl.translator().newBatch(8);
      for (int i = 0; i < 8; i++) {
        try {
          djl.translator().prepare(test.png(100 + i), batch, i);
        } catch (ImageDecodingException e) {
          throw new AssertionError(e);
        }
      }
      float[][] viaDjl = djl.predict(batch.withCount(8));
      float[][] viaSession = session.run(batch.values(), 8);
      for (int i = 0; i < 8; i++) {
        assertArrayEquals(Vectors.l2Normalise(viaSession[i]), viaDjl[i], 1e-5f);
      }
    }
  }

  @Test
  void largerAndRecompressedCopiesEmbedCloseToTheOriginal() throws Exception {
    BufferedImage original = ImageIO.read(new ByteArrayInputStream(test.png(7)));
    BufferedImage large = new BufferedImage(280, 280, BufferedImage.TYPE_INT_RGB);
    large.getGraphics().drawImage(original.getScaledInstance(280, 280, Image.SCALE_FAST), 0, 0, null);
    ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
    ImageIO.write(large, "jpeg", jpeg);
    float[] reference = embedder.embed(test.png(7));
    float similarity = Vectors.dot(reference, embedder.embed(jpeg.toByteArray()));
    assertTrue(similarity > 0.9f, "cosine similarity " + similarity);
  }

  // A sideways-stored photo must embed like the upright one, for the job (embedBatch) and for the
  // search service's photo upload (embed) alike. An ankle boot: turned or mirrored, it is
  // another picture to the model.
  @Test
  void photosEmbedAsShownForEveryExifOrientation() throws Exception {
    BufferedImage upright = enlarged(ImageIO.read(new ByteArrayInputStream(test.png(firstOfLabel(9)))), 4);
    float[] reference = embedder.embed(TestMetadata.jpeg(upright, 0.95f));
    List<byte[]> photos = new ArrayList<>();
    for (int orientation = 1; orientation <= 8; orientation++) {
      photos.add(TestMetadata.withSegments(TestMetadata.jpeg(TestMetadata.storedFor(upright, orientation), 0.95f),
          TestMetadata.exifSegment(TestMetadata.exifTiff(orientation, ByteOrder.BIG_ENDIAN))));
    }
    List<EmbeddingResult> results = embedder.embedBatch(photos);
    for (int orientation = 1; orientation <= 8; orientation++) {
      float viaBatch = Vectors.dot(reference, results.get(orientation - 1).vector());
      float viaUpload = Vectors.dot(reference, embedder.embed(photos.get(orientation - 1)));
      assertTrue(viaBatch > 0.99f && viaUpload > 0.99f, "orientation " + orientation + ": cosine "
          + viaBatch + " (embedBatch), " + viaUpload + " (embed) to the upright photo");
    }
    // The stored pixels alone are another picture: what the tag changes is not a rounding error.
    float sideways = Vectors.dot(reference, embedder.embed(TestMetadata.jpeg(TestMetadata.storedFor(upright, 6), 0.95f)));
    assertTrue(sideways < 0.9f, "the sideways photo's cosine to the upright one is " + sideways);
  }

  @Test
  void damagedMetadataIsIgnoredNamedAndEmbedsLikeTheCleanImage() throws Exception {
    BufferedImage item = enlarged(ImageIO.read(new ByteArrayInputStream(test.png(firstOfLabel(9)))), 2);
    byte[] clean = TestMetadata.jpeg(item, 0.9f);
    byte[] truncatedProfile = Arrays.copyOf(TestMetadata.profile(ColorSpace.CS_GRAY), 300);
    List<EmbeddingResult> results = embedder.embedBatch(List.of(
        clean,
        TestMetadata.withSegments(clean, TestMetadata.iccSegments(truncatedProfile, 1)),
        TestMetadata.withSegments(clean, TestMetadata.exifSegment("not a TIFF header".getBytes(StandardCharsets.US_ASCII))),
        TestMetadata.withSegments(clean, TestMetadata.iccSegments(TestMetadata.profile(ColorSpace.CS_GRAY), 2))));

    assertEquals(Set.of(), results.get(0).ignoredMetadata());
    assertEquals(Set.of(ImageMetadata.ICC_PROFILE), results.get(1).ignoredMetadata());
    assertEquals(Set.of(ImageMetadata.EXIF), results.get(2).ignoredMetadata());
    assertEquals(Set.of(), results.get(3).ignoredMetadata());
    for (EmbeddingResult result : results) {
      assertArrayEquals(results.get(0).vector(), result.vector(), 1e-6f);
    }
  }

  @Test
  void descriptorNamingAMissingInputIsRefusedAtLoad(@TempDir Path copy) throws Exception {
    copyModel(copy);
    rewriteDescriptor(copy, "\"inputTensor\" : \"image\"", "\"inputTensor\" : \"pixels\"");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(copy).build()));
    assertTrue(e.getMessage().contains("names input 'pixels'") && e.getMessage().contains("[image]"),
        e.getMessage());
  }

  @Test
  void wrongEmbeddingDimensionIsRefusedAtLoad(@TempDir Path copy) throws Exception {
    copyModel(copy);
    rewriteDescriptor(copy, "\"embeddingDimension\" : 128", "\"embeddingDimension\" : 64");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(copy).build()));
    assertTrue(e.getMessage().contains("embeddingDimension 64"), e.getMessage());
  }

  @Test
  void gpuRequestWithoutGpuNativesNamesTheProfile() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(CommittedModel.dir())
            .device(DeviceSelection.GPU).build()));
    assertTrue(e.getMessage().contains("-Pgpu"), e.getMessage());
  }

  @Test
  void autoFallsBackToTheCpuWithoutAGpu() {
    try (ImageEmbedder auto = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(CommittedModel.dir())
        .device(DeviceSelection.AUTO).build())) {
      assertEquals(DeviceSelection.CPU, auto.device());
    }
  }

  @Test
  void closedEmbedderRefusesWork() {
    ImageEmbedder closing = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(CommittedModel.dir()).build());
    closing.close();
    assertThrows(IllegalStateException.class, () -> closing.embed(test.png(0)));
  }

  private static int firstOfLabel(int label) {
    for (int i = 0; i < test.size(); i++) {
      if (test.label(i) == label) {
        return i;
      }
    }
    throw new IllegalStateException("no test image of label " + label);
  }

  /** {@code image} as 8-bit gray, each pixel repeated {@code factor x factor} times. */
  private static BufferedImage enlarged(BufferedImage image, int factor) {
    BufferedImage large = new BufferedImage(image.getWidth() * factor, image.getHeight() * factor,
        BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < large.getHeight(); y++) {
      for (int x = 0; x < large.getWidth(); x++) {
        large.getRaster().setSample(x, y, 0, image.getRaster().getSample(x / factor, y / factor, 0));
      }
    }
    return large;
  }

  private static void copyModel(Path target) throws Exception {
    Path source = CommittedModel.dir();
    try (Stream<Path> files = Files.walk(source)) {
      for (Path p : files.toList()) {
        Path to = target.resolve(source.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to);
        }
      }
    }
  }

  private static void rewriteDescriptor(Path dir, String from, String to) throws Exception {
    Path file = dir.resolve(EmbeddingModelDescriptor.FILE_NAME);
    String json = Files.readString(file);
    assertTrue(json.contains(from), "model.json has no " + from);
    Files.writeString(file, json.replace(from, to));
  }

  // ---- the upload path: embed(bytes, CropMode) -------------------------------------------------

  @Test
  void aCroppedPhotoEmbedsAsTheEvaluationsCroppedPngDoes() throws Exception {
    // The evaluation decodes the JPEG with ImageIO, crops it and embeds the crop as PNG bytes: the
    // numbers it reports are the upload endpoint's.
    PhotoQueries photos = new PhotoQueries(test, 1000, 2026);
    int[] items = photos.queryItems(8);
    ObjectCrop crop = new ObjectCrop();
    for (int q = 0; q < items.length; q++) {
      byte[] jpeg = photos.render(q, items[q]).jpeg();
      BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(jpeg));
      for (CropMode mode : new CropMode[] {CropMode.BOX, CropMode.CUTOUT}) {
        PhotoEmbedding photo = embedder.embed(jpeg, mode);
        byte[] png = croppedPng(mode == CropMode.BOX ? crop.crop(decoded) : crop.cutout(decoded));

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

  private static byte[] croppedPng(BufferedImage image) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }
}
