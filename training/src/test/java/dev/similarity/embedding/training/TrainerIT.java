package dev.similarity.embedding.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.ResizePolicy;
import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.embedding.internal.Vectors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A few graph-mode training steps of a tiny network, exported and served through DJL. */
class TrainerIT {

  @Test
  void trainsExportsAndServesASavedModel(@TempDir Path out) throws Exception {
    TrainingConfig config = TrainingConfig.builder().outputDir(out).modelId("tiny").version("test")
        .network("conv4-pool-dense16-embed8").epochs(2).maxStepsPerEpoch(4).perClass(2)
        .warmupEpochs(0.5f).build();
    List<String> progress = new ArrayList<>();
    Trainer.Summary summary = new Trainer(config, progress::add).train(FashionMnist.load(FashionMnist.Split.TRAIN));

    assertEquals(8, summary.steps());
    assertTrue(Float.isFinite(summary.lastEpochLoss()));
    assertTrue(progress.stream().anyMatch(l -> l.startsWith("epoch  2/2") && l.contains("images/s")
        && l.contains("left")), String.join("\n", progress));
    assertTrue(Files.isRegularFile(out.resolve("saved_model.pb")));
    EmbeddingModelDescriptor descriptor = EmbeddingModelDescriptor.read(out);
    assertEquals("tiny@test", descriptor.qualifiedId());
    assertEquals(8, descriptor.embeddingDimension());
    assertEquals(ResizePolicy.LETTERBOX, descriptor.resizePolicy());

    try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(out).build())) {
      float[] v = embedder.embed(FashionMnist.load(FashionMnist.Split.TEST).png(0));
      assertEquals(8, v.length);
      assertEquals(1.0, Math.sqrt(Vectors.dot(v, v)), 1e-5);
    }
  }
}
