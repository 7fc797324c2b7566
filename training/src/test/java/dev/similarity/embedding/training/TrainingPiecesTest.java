package dev.similarity.embedding.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TrainingPiecesTest {

  @Test
  void parsesNetworkSpecs() {
    NetworkSpec spec = NetworkSpec.parse("conv32-pool-drop0.25-dense64-embed16");
    assertEquals(List.of(new NetworkSpec.Conv(32), new NetworkSpec.Pool(), new NetworkSpec.Dropout(0.25f),
        new NetworkSpec.Dense(64), new NetworkSpec.Embed(16)), spec.layers());
    assertEquals(16, spec.embeddingDimension());
  }

  @Test
  void networkSpecErrorsNameTheBadLayer() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NetworkSpec.parse("conv32-banana-embed8"));
    assertTrue(e.getMessage().contains("bad layer 'banana'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> NetworkSpec.parse("conv32-pool"));
  }

  @Test
  void parametersFollowTheFeatureMapShapes() {
    EmbeddingNetwork network = new EmbeddingNetwork(NetworkSpec.parse("conv8-pool-conv16-pool-dense32-embed4"), 28, 28, 1);
    List<String> shapes = network.parameters().stream()
        .map(p -> p.name() + java.util.Arrays.toString(p.shape())).toList();
    assertEquals(List.of("layer0/kernel[3, 3, 1, 8]", "layer0/bias[8]", "layer2/kernel[3, 3, 8, 16]",
        "layer2/bias[16]", "layer4/kernel[784, 32]", "layer4/bias[32]", "layer5/kernel[32, 4]",
        "layer5/bias[4]"), shapes);
  }

  @Test
  void everyBatchHoldsKImagesOfEveryClassAndNoImageRepeatsInAnEpoch() {
    int[] labels = new int[100];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i % 4;
    }
    ClassBalancedBatches batches = new ClassBalancedBatches(labels, 4, 3);
    int[][] epoch = batches.epoch(new SplittableRandom(1));
    assertEquals(25 / 3, epoch.length);
    Set<Integer> seen = new HashSet<>();
    for (int[] batch : epoch) {
      int[] perClass = new int[4];
      for (int index : batch) {
        perClass[labels[index]]++;
        assertTrue(seen.add(index), "image " + index + " twice in one epoch");
      }
      assertEquals(List.of(3, 3, 3, 3), java.util.Arrays.stream(perClass).boxed().toList());
    }
  }

  @Test
  void learningRateWarmsUpThenDecaysToTheFloor() {
    TrainingConfig config = TrainingConfig.builder().outputDir(Path.of("unused")).epochs(10)
        .learningRate(1e-3f).warmupEpochs(1).finalLearningRateFraction(0.1f).build();
    Trainer trainer = new Trainer(config, line -> { });
    assertEquals(0.5e-3f, trainer.learningRate(50, 100, 1000), 1e-9f);
    assertEquals(1e-3f, trainer.learningRate(100, 100, 1000), 1e-9f);
    assertEquals(1e-4f, trainer.learningRate(1000, 100, 1000), 1e-9f);
    assertTrue(trainer.learningRate(500, 100, 1000) < 1e-3f);
  }

  @Test
  void trainingConfigNamesTheSettingToFix() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingConfig.builder().outputDir(Path.of("x")).perClass(1).build());
    assertTrue(e.getMessage().startsWith("perClass must be at least 2"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> TrainingConfig.builder().build());
  }
}
