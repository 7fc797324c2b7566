package dev.similarity.search.testing;

import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/** A catalogue of real images embedded with a real model and published as the job would publish it. */
public final class EmbeddedCatalogue {

  private EmbeddedCatalogue() {}

  /**
   * Embeds Fashion-MNIST images {@code 0..products-1} with the model of {@code modelDir} and
   * publishes them as products {@code fm<i>} (category: the image's) in {@code shards} shards, one
   * checkpoint.
   */
  public static void publish(SnapshotStore store, Path modelDir, FashionMnist images, int products, int shards,
      IntFunction<String> imageUrl) {
    try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(modelDir).build());
        ShardPublisher publisher = new ShardPublisher(store, shards, embedder.modelId(), embedder.dimension(),
            new RetentionPolicy(2, Duration.ZERO))) {
      List<byte[]> pngs = new ArrayList<>();
      for (int i = 0; i < products; i++) {
        pngs.add(images.png(i));
      }
      List<EmbeddingResult> vectors = embedder.embedBatch(pngs);
      for (int i = 0; i < products; i++) {
        publisher.upsert("fm" + i, vectors.get(i).vector(), FashionMnist.categoryName(images.label(i)),
            imageUrl.apply(i));
      }
      publisher.publish();
    }
  }
}
