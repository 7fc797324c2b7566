package dev.similarity.search;

import dev.similarity.index.ProductVector;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import dev.similarity.index.tools.ClusteredUnitVectors;
import dev.similarity.search.testing.ShardPublisher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.apache.lucene.util.VectorUtil;

/**
 * Products with known clustered unit vectors, written into real shard indices and published to a
 * store through {@link ShardPublisher}, with an exact search to check the service's answers.
 */
final class TestCatalogue implements AutoCloseable {

  static final String MODEL_ID = "test-clustered@1";

  final SnapshotStore store;
  final ShardPublisher publisher;
  final int dimension;
  final Map<String, float[]> vectors = new HashMap<>();
  final Map<String, String> categories = new HashMap<>();
  final Map<String, String> imageUrls = new HashMap<>();
  final List<String> ids = new ArrayList<>();
  private final ClusteredUnitVectors generator;

  TestCatalogue(Path folder, int shards, int dimension, RetentionPolicy retention) {
    this.store = SnapshotStore.at(folder.toString());
    this.publisher = new ShardPublisher(store, shards, MODEL_ID, dimension, retention);
    this.dimension = dimension;
    this.generator = new ClusteredUnitVectors(dimension, 20, 1.0, 7);
  }

  TestCatalogue(Path folder, int shards, int dimension) {
    this(folder, shards, dimension, new RetentionPolicy(3, Duration.ZERO));
  }

  /** Adds products p0..p(count-1), category "c" + (i % 5), image URL by {@code imageUrl}. */
  TestCatalogue addProducts(int count, IntFunction<String> imageUrl) {
    List<ProductVector> batch = new ArrayList<>();
    for (int i = ids.size(); i < count; i++) {
      String id = "p" + i;
      float[] v = generator.next();
      ids.add(id);
      vectors.put(id, v);
      categories.put(id, "c" + (i % 5));
      imageUrls.put(id, imageUrl.apply(i));
      batch.add(new ProductVector(id, v, "c" + (i % 5), imageUrl.apply(i)));
    }
    publisher.bulkLoad(batch);
    return this;
  }

  /** Gives {@code id} a new vector (and keeps its category); visible after the next publish. */
  float[] change(String id) {
    float[] v = generator.next();
    vectors.put(id, v);
    publisher.upsert(id, v, categories.get(id), imageUrls.get(id));
    return v;
  }

  /** The exact top-k ids by cosine, best first. */
  List<String> exactTop(float[] query, int k, String category, String excluded) {
    return ids.stream()
        .filter(id -> !id.equals(excluded))
        .filter(id -> category == null || category.equals(categories.get(id)))
        .sorted(Comparator.comparingDouble((String id) -> -VectorUtil.dotProduct(query, vectors.get(id)))
            .thenComparing(id -> id))
        .limit(k)
        .toList();
  }

  float cosine(float[] query, String id) {
    return VectorUtil.dotProduct(query, vectors.get(id));
  }

  @Override
  public void close() {
    publisher.close();
  }
}
