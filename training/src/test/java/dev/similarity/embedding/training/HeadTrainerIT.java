package dev.similarity.embedding.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.embedding.CommittedModel;
import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.embedding.internal.Vectors;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A head trained on frozen features, exported on top of the committed model and served through DJL. */
class HeadTrainerIT {

  @Test
  void learnsToPullAnItemsViewsTogether() {
    // 40 items, each a random direction in 32-d; its 4 views are that direction plus heavy noise.
    int items = 40;
    int views = 4;
    int dim = 32;
    SplittableRandom random = new SplittableRandom(3);
    float[][] features = new float[items * views][];
    int[] labels = new int[features.length];
    for (int i = 0; i < items; i++) {
      float[] centre = gaussian(random, dim, 1);
      for (int v = 0; v < views; v++) {
        float[] x = gaussian(random, dim, 0.9);
        for (int k = 0; k < dim; k++) {
          x[k] += centre[k];
        }
        Vectors.l2Normalise(x);
        features[i * views + v] = x;
        labels[i * views + v] = 1000 + i;
      }
    }
    HeadTrainer.Config config = new HeadTrainer.Config(NetworkSpec.parse("dense64-embed16"),
        HeadTrainer.Config.loss("multi-similarity"), 40, 10, 3e-3f, 5L, 1);
    HeadTrainer.Head head = new HeadTrainer(config, line -> { }).train(features, labels);

    assertEquals(16, head.dimension());
    assertTrue(head.lossByEpoch().getLast() < 0.7 * head.lossByEpoch().getFirst(), head.lossByEpoch().toString());
    float[][] embedded = HeadTrainer.apply(head, features);
    assertEquals(features.length, embedded.length);
    assertEquals(1.0, Math.sqrt(Vectors.dot(embedded[0], embedded[0])), 1e-4);
  }

  @Test
  void backbonePlusHeadServesWhatTheHeadComputesOnTheBackbonesFeatures(@TempDir Path out) throws Exception {
    FashionMnist test = FashionMnist.load(FashionMnist.Split.TEST);
    List<byte[]> images = new ArrayList<>();
    int[] labels = new int[24];
    for (int i = 0; i < 24; i++) {
      images.add(test.png(i));
      labels[i] = i / 2;   // 12 "items" of 2 views each
    }
    float[][] features = embed(CommittedModel.dir(), images);
    HeadTrainer.Config config = new HeadTrainer.Config(NetworkSpec.parse("dense32-embed8"),
        HeadTrainer.Config.loss("triplet"), 2, 4, 1e-3f, 1L, 1);
    HeadTrainer.Head head = new HeadTrainer(config, line -> { }).train(features, labels);

    EmbeddingModelDescriptor descriptor = HeadTrainer.exportWithBackbone(head, CommittedModel.dir(), out, "cnn-head");
    assertEquals(8, descriptor.embeddingDimension());
    assertEquals("cnn-head@1", descriptor.qualifiedId());
    float[][] served = embed(out, images);
    float[][] expected = HeadTrainer.apply(head, features);
    for (int i = 0; i < images.size(); i++) {
      for (int k = 0; k < 8; k++) {
        assertEquals(expected[i][k], served[i][k], 1e-4, "image " + i + " component " + k);
      }
    }
  }

  @Test
  void exportsAnInnerTensorOfTheBackboneAsAFrozenFeatureModel(@TempDir Path out) throws Exception {
    EmbeddingModelDescriptor descriptor =
        HeadTrainer.exportFeatures(CommittedModel.dir(), "layer6_2/Reshape", out.resolve("conv"), "cnn-conv");
    assertEquals(7 * 7 * 64, descriptor.embeddingDimension());
    float[][] served = embed(out.resolve("conv"), List.of(FashionMnist.load(FashionMnist.Split.TEST).png(0)));
    assertEquals(3136, served[0].length);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HeadTrainer.exportFeatures(CommittedModel.dir(), "no_such/op", out.resolve("x"), "x"));
    assertTrue(e.getMessage().contains("no tensor no_such/op"), e.getMessage());
  }

  @Test
  void refusesAHeadOfAnotherWidthThanTheBackbone(@TempDir Path out) {
    HeadTrainer.Head head = new HeadTrainer.Head(NetworkSpec.parse("embed8"), 64, java.util.Map.of(), List.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HeadTrainer.exportWithBackbone(head, CommittedModel.dir(), out, "x"));
    assertTrue(e.getMessage().contains("64-d"), e.getMessage());
  }

  private static float[][] embed(Path model, List<byte[]> images) {
    try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(model).build())) {
      return embedder.embedBatch(images).stream().map(EmbeddingResult::vector).toArray(float[][]::new);
    }
  }

  private static float[] gaussian(SplittableRandom random, int dim, double sigma) {
    float[] v = new float[dim];
    for (int k = 0; k < dim; k++) {
      // Box-Muller
      v[k] = (float) (sigma * Math.sqrt(-2 * Math.log(1 - random.nextDouble()))
          * Math.cos(2 * Math.PI * random.nextDouble()));
    }
    return v;
  }
}
