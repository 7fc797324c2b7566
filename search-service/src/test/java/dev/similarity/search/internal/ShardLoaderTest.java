package dev.similarity.search.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.index.ProductVector;
import dev.similarity.index.snapshot.SnapshotManifest;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import dev.similarity.index.tools.ClusteredUnitVectors;
import dev.similarity.search.testing.ShardPublisher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardLoaderTest {

  private static final int DIM = 8;

  @TempDir Path folder;

  @Test
  void snapshotWhoseBlobsRetentionRemovedIsReplacedByTheThenLatest() throws Exception {
    SnapshotStore store = SnapshotStore.at(folder.toString());
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 4, 1.0, 5);
    ServiceMetrics metrics = new ServiceMetrics();
    // Keeps only the newest snapshot: publishing checkpoint 2 deletes checkpoint 1's own blobs.
    try (ShardPublisher publisher = new ShardPublisher(store, 1, "m@1", DIM, new RetentionPolicy(1, Duration.ZERO))) {
      List<ProductVector> products = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        products.add(new ProductVector("p" + i, vectors.next(), null));
      }
      publisher.bulkLoad(products);
      publisher.publish();
      SnapshotManifest seenByThePoller = store.latest(0).orElseThrow();
      publisher.upsert("p30", vectors.next(), null, null);
      publisher.publish();

      LoadedShard loaded = new ShardLoader(store, folder.resolve("loaded"), metrics).load(seenByThePoller, 0);

      assertThat(loaded.manifest().checkpointId()).isEqualTo(2);
      assertThat(loaded.snapshot().documentCount()).isEqualTo(31);
      String text = metrics.render(SnapshotView.empty(), java.time.Instant.now(), null);
      assertThat(text).contains("search_snapshot_load_retries_total{shard=\"0\"} 1")
          .doesNotContain("search_snapshot_load_failures_total{");
      assertThat(folder.resolve("loaded")).isNotEmptyDirectory();
      loaded.release();
      assertThat(loaded.isClosed()).isTrue();
      assertThat(folder.resolve("loaded")).isEmptyDirectory();
    }
  }

  @Test
  void manifestFiledUnderAnotherShardIsRefusedAsCorrupt() throws Exception {
    SnapshotStore store = SnapshotStore.at(folder.toString());
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 4, 1.0, 5);
    try (ShardPublisher publisher = new ShardPublisher(store, 2, "m@1", DIM, new RetentionPolicy(1, Duration.ZERO))) {
      publisher.upsert("a", vectors.next(), null, null);
      publisher.publish();
      SnapshotManifest shardZero = store.latest(0).orElseThrow();

      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> new ShardLoader(store, folder.resolve("loaded"), new ServiceMetrics()).load(shardZero, 1))
          .isInstanceOf(ShardLoader.LoadFailedException.class)
          .hasMessageContaining("folder of shard 1 names shard 0");
    }
  }
}
