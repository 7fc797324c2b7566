package dev.similarity.embedding.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.EmbeddingModelDescriptor.Normalisation;
import dev.similarity.embedding.ResizePolicy;
import dev.similarity.embedding.Resampling;
import java.awt.Color;
import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

class ImagePreprocessorTest {

  private static final Normalisation RAW_GRAY = Normalisation.none(1);

  @Test
  void imageOfTheModelSizePassesThroughUnchanged() {
    ImagePreprocessor preprocessor = new ImagePreprocessor(descriptor(28, 28, 1, ResizePolicy.LETTERBOX,
        new Normalisation(1f / 255f, new float[] {0.2860f}, new float[] {0.3530f}), 0));
    BufferedImage gray = TestImages.gray(28, 28, (x, y) -> (x * 13 + y * 7) % 256);
    float[] values = preprocessor.prepare(ImageDecoder.toRgba(gray));
    PixelNormaliser normaliser = new PixelNormaliser(
        new Normalisation(1f / 255f, new float[] {0.2860f}, new float[] {0.3530f}));
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) {
        // Bit-exact: this is what training fed the network for the same pixels.
        assertEquals(normaliser.apply((x * 13 + y * 7) % 256, 0), values[y * 28 + x], 0f);
      }
    }
  }

  @Test
  void letterboxKeepsAspectRatioAndPadsTheBands() {
    ImagePreprocessor preprocessor = new ImagePreprocessor(descriptor(8, 8, 1, ResizePolicy.LETTERBOX, RAW_GRAY, 9));
    // 16x8 white: scaled by 0.5 to 8x4, centred vertically, rows 0-1 and 6-7 are padding.
    float[] values = preprocessor.prepare(ImageDecoder.toRgba(TestImages.gray(16, 8, (x, y) -> 255)));
    for (int y = 0; y < 8; y++) {
      float expected = y >= 2 && y < 6 ? 255f : 9f;
      for (int x = 0; x < 8; x++) {
        assertEquals(expected, values[y * 8 + x], 1e-4f, "row " + y);
      }
    }
  }

  @Test
  void centreCropFillsTheInputAndCutsTheEdges() {
    ImagePreprocessor preprocessor = new ImagePreprocessor(descriptor(4, 4, 1, ResizePolicy.CENTER_CROP, RAW_GRAY, 0));
    // 12x4: columns 0-3 = 10, 4-7 = 20, 8-11 = 30; the centre 4x4 is all 20.
    float[] values = preprocessor.prepare(ImageDecoder.toRgba(
        TestImages.gray(12, 4, (x, y) -> x < 4 ? 10 : x < 8 ? 20 : 30)));
    for (float v : values) {
      assertEquals(20f, v, 1e-4f);
    }
  }

  @Test
  void downscalingAveragesAreas() {
    ImagePreprocessor preprocessor = new ImagePreprocessor(descriptor(1, 2, 1, ResizePolicy.LETTERBOX, RAW_GRAY, 0));
    float[] values = preprocessor.prepare(ImageDecoder.toRgba(
        TestImages.gray(4, 2, (x, y) -> new int[] {0, 100, 200, 250}[x])));
    assertArrayEquals(new float[] {50f, 225f}, values, 1e-4f);
  }

  @Test
  void aOneByOneImageFillsTheWholeInput() {
    ImagePreprocessor preprocessor = new ImagePreprocessor(descriptor(5, 5, 1, ResizePolicy.LETTERBOX, RAW_GRAY, 0));
    float[] values = preprocessor.prepare(ImageDecoder.toRgba(TestImages.gray(1, 1, (x, y) -> 123)));
    for (float v : values) {
      assertEquals(123f, v, 1e-4f);
    }
  }

  @Test
  void transparentPixelsTakeThePadColour() {
    ImagePreprocessor preprocessor = new ImagePreprocessor(descriptor(1, 2, 1, ResizePolicy.LETTERBOX, RAW_GRAY, 40));
    BufferedImage image = TestImages.halves(2, 1, BufferedImage.TYPE_INT_ARGB,
        TestImages.colour(0x00FFFFFF), TestImages.colour(0xFFFFFFFF));
    assertArrayEquals(new float[] {40f, 255f}, preprocessor.prepare(ImageDecoder.toRgba(image)), 1e-4f);
  }

  @Test
  void colourBecomesLuminanceForAGrayscaleModel() {
    ImagePreprocessor preprocessor = new ImagePreprocessor(descriptor(1, 1, 1, ResizePolicy.LETTERBOX, RAW_GRAY, 0));
    BufferedImage red = TestImages.halves(2, 2, BufferedImage.TYPE_INT_RGB, Color.RED, Color.RED);
    assertArrayEquals(new float[] {76f}, preprocessor.prepare(ImageDecoder.toRgba(red)), 1e-4f);
  }

  @Test
  void colourModelsGetChannelsInTheDeclaredOrderAndNormalisation() {
    Normalisation perChannel = new Normalisation(1f, new float[] {10f, 20f, 30f}, new float[] {1f, 2f, 4f});
    BufferedImage image = TestImages.halves(2, 2, BufferedImage.TYPE_INT_RGB,
        new Color(110, 60, 230), new Color(110, 60, 230));
    float[] rgb = new ImagePreprocessor(descriptor(1, 1, 3, ResizePolicy.LETTERBOX, perChannel, 0))
        .prepare(ImageDecoder.toRgba(image));
    assertArrayEquals(new float[] {100f, 20f, 50f}, rgb, 1e-4f);
    EmbeddingModelDescriptor bgrModel = new EmbeddingModelDescriptor("m", "1", 1, 1, 3, "BGR", perChannel,
        ResizePolicy.LETTERBOX, 0, null, "in", "out", 8);
    float[] bgr = new ImagePreprocessor(bgrModel).prepare(ImageDecoder.toRgba(image));
    assertArrayEquals(new float[] {220f, 20f, 20f}, bgr, 1e-4f);
  }

  @Test
  void stretchWithAlignedCornersSamplesLikeTensorFlowResizeBilinear() {
    // TF resize_bilinear(align_corners=true), 3 -> 5 wide: source x = i * 2 / 4; 2 -> 1 high: row 0.
    ImagePreprocessor preprocessor = new ImagePreprocessor(descriptor(1, 5, 1, ResizePolicy.STRETCH, RAW_GRAY, 0,
        Resampling.BILINEAR_ALIGN_CORNERS));
    float[] values = preprocessor.prepare(ImageDecoder.toRgba(
        TestImages.gray(3, 2, (x, y) -> y == 0 ? x * 90 : 255)));
    assertArrayEquals(new float[] {0f, 45f, 90f, 135f, 180f}, values, 1e-4f);
  }

  @Test
  void stretchWithAlignedCornersShrinksByPickingPixelsNotAveraging() {
    // 5 -> 3: samples at 0, 2 and 4 exactly; AREA would average (0+10)/2... instead.
    ImagePreprocessor preprocessor = new ImagePreprocessor(descriptor(2, 3, 1, ResizePolicy.STRETCH, RAW_GRAY, 0,
        Resampling.BILINEAR_ALIGN_CORNERS));
    float[] values = preprocessor.prepare(ImageDecoder.toRgba(
        TestImages.gray(5, 4, (x, y) -> x * 10 + y)));
    // Rows sampled at 0 and 3 (corners aligned), columns at 0, 2, 4.
    assertArrayEquals(new float[] {0f, 20f, 40f, 3f, 23f, 43f}, values, 1e-4f);
  }

  @Test
  void stretchFillsTheInputWithoutBandsOrCuts() {
    ImagePreprocessor preprocessor = new ImagePreprocessor(descriptor(2, 2, 1, ResizePolicy.STRETCH, RAW_GRAY, 7));
    // 8x2 (4:1) stretched to 2x2 with area averaging: left half 10, right half 30, no padding.
    float[] values = preprocessor.prepare(ImageDecoder.toRgba(TestImages.gray(8, 2, (x, y) -> x < 4 ? 10 : 30)));
    assertArrayEquals(new float[] {10f, 30f, 10f, 30f}, values, 1e-4f);
  }

  private static EmbeddingModelDescriptor descriptor(int height, int width, int channels, ResizePolicy policy,
      Normalisation normalisation, int padValue, Resampling resampling) {
    return new EmbeddingModelDescriptor("test", "1", height, width, channels, "RGB", normalisation, policy,
        padValue, null, "image", "embedding", 8, resampling);
  }

  private static EmbeddingModelDescriptor descriptor(int height, int width, int channels, ResizePolicy policy,
      Normalisation normalisation, int padValue) {
    return new EmbeddingModelDescriptor("test", "1", height, width, channels, "RGB", normalisation, policy,
        padValue, null, "image", "embedding", 8);
  }
}
