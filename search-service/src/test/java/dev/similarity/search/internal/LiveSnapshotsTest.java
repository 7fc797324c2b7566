package dev.similarity.search.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.index.ProductVector;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import dev.similarity.index.tools.ClusteredUnitVectors;
import dev.similarity.search.testing.ShardPublisher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reference counting: a swap never closes a snapshot that a request still holds. */
class LiveSnapshotsTest {

  private static final int DIM = 8;

  @TempDir Path folder;
  private SnapshotStore store;
  private ShardPublisher publisher;
  private final ServiceMetrics metrics = new ServiceMetrics();
  private final ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 4, 1.0, 3);
  private final float[] query = vectors.next();

  @BeforeEach
  void publish() {
    store = SnapshotStore.at(folder.toString());
    publisher = new ShardPublisher(store, 1, "m@1", DIM, new RetentionPolicy(10, Duration.ZERO));
    List<ProductVector> products = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      products.add(new ProductVector("p" + i, vectors.next(), null));
    }
    publisher.bulkLoad(products);
    publisher.publish();
    publisher.upsert("p50", vectors.next(), null, null);
    publisher.publish();
  }

  @AfterEach
  void close() {
    publisher.close();
  }

  private LoadedShard load(long checkpoint) throws Exception {
    return new LoadedShard(ShardSnapshot.load(store, store.manifest(0, checkpoint)), metrics::snapshotClosed);
  }

  @Test
  void replacedSnapshotStaysOpenWhileARequestHoldsItAndClosesWhenReleased() throws Exception {
    LiveSnapshots live = new LiveSnapshots();
    LoadedShard first = load(1);
    live.install(first);

    SnapshotView held = live.acquire();
    LoadedShard second = load(2);
    live.install(second);

    assertThat(first.isClosed()).isFalse();
    assertThat(held.shard(0).snapshot().search(query, 5, null, null, 50)).hasSize(5);
    assertThat(held.checkpoints()).containsEntry(0, 1L);
    try (SnapshotView current = live.acquire()) {
      assertThat(current.checkpoints()).containsEntry(0, 2L);
      assertThat(current.documentCount()).isEqualTo(51);
    }

    held.close();

    assertThat(first.isClosed()).isTrue();
    assertThat(second.isClosed()).isFalse();
    live.close();
    assertThat(second.isClosed()).isTrue();
  }

  @Test
  void releasedViewCannotBeAcquiredAgain() throws Exception {
    LiveSnapshots live = new LiveSnapshots();
    live.install(load(1));
    SnapshotView retired = live.acquire();
    live.install(load(2));
    retired.close();

    assertThat(retired.tryAcquire()).isFalse();
    try (SnapshotView current = live.acquire()) {
      assertThat(current).isNotSameAs(retired);
      assertThat(current.checkpoints()).containsEntry(0, 2L);
    }
    live.close();
  }

  @Test
  void snapshotCarriedIntoTheNextViewClosesOnlyWithTheLastViewHoldingIt() throws Exception {
    SnapshotStore twoShards = SnapshotStore.at(folder.resolve("two-shards").toString());
    try (ShardPublisher two = new ShardPublisher(twoShards, 2, "m@1", DIM, new RetentionPolicy(10, Duration.ZERO))) {
      List<ProductVector> products = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        products.add(new ProductVector("q" + i, vectors.next(), null));
      }
      two.bulkLoad(products);
      two.publish(); // checkpoint 1: both shards
      two.publish(0); // checkpoint 2: shard 0 only
      LiveSnapshots live = new LiveSnapshots();
      LoadedShard shard1 = new LoadedShard(ShardSnapshot.load(twoShards, twoShards.manifest(1, 1)), () -> {});
      live.install(new LoadedShard(ShardSnapshot.load(twoShards, twoShards.manifest(0, 1)), () -> {}));
      live.install(shard1);
      SnapshotView held = live.acquire();
      // Shard 0 is replaced; shard 1's snapshot is carried into the new view.
      live.install(new LoadedShard(ShardSnapshot.load(twoShards, twoShards.manifest(0, 2)), () -> {}));
      held.close();

      assertThat(shard1.isClosed()).isFalse();
      try (SnapshotView current = live.acquire()) {
        assertThat(current.shard(1)).isSameAs(shard1);
        assertThat(current.checkpoints()).containsEntry(0, 2L).containsEntry(1, 1L);
      }
      live.close();
      assertThat(shard1.isClosed()).isTrue();
    }
  }

  @Test
  void replacingTheWholeViewKeepsTheOldOneOpenForItsRequestsAndClosesEveryOldShardAfter() throws Exception {
    SnapshotStore twoShards = SnapshotStore.at(folder.resolve("two-models").toString());
    try (ShardPublisher old = new ShardPublisher(twoShards, 2, "m@1", DIM, new RetentionPolicy(10, Duration.ZERO));
        ShardPublisher next = new ShardPublisher(twoShards, 2, "wide@1", 2 * DIM,
            new RetentionPolicy(10, Duration.ZERO)).checkpointsAfter(1)) {
      ClusteredUnitVectors wide = new ClusteredUnitVectors(2 * DIM, 4, 1.0, 5);
      for (int i = 0; i < 30; i++) {
        old.upsert("q" + i, vectors.next(), null, null);
        next.upsert("q" + i, wide.next(), null, null);
      }
      old.publish(); // checkpoint 1, model m@1
      next.publish(); // checkpoint 2, model wide@1
      LiveSnapshots live = new LiveSnapshots();
      List<LoadedShard> oldShards = List.of(
          new LoadedShard(ShardSnapshot.load(twoShards, twoShards.manifest(0, 1)), () -> {}),
          new LoadedShard(ShardSnapshot.load(twoShards, twoShards.manifest(1, 1)), () -> {}));
      oldShards.forEach(live::install);
      SnapshotView held = live.acquire();

      live.replaceAll(List.of(
          new LoadedShard(ShardSnapshot.load(twoShards, twoShards.manifest(0, 2)), () -> {}),
          new LoadedShard(ShardSnapshot.load(twoShards, twoShards.manifest(1, 2)), () -> {})));

      assertThat(oldShards).noneMatch(LoadedShard::isClosed);
      assertThat(held.problems()).isEmpty();
      assertThat(held.reference().modelId()).isEqualTo("m@1");
      try (SnapshotView current = live.acquire()) {
        assertThat(current.problems()).isEmpty();
        assertThat(current.shards()).allMatch(s -> s.manifest().modelId().equals("wide@1"));
        assertThat(current.checkpoints()).containsEntry(0, 2L).containsEntry(1, 2L);
      }
      held.close();
      assertThat(oldShards).allMatch(LoadedShard::isClosed);
      live.close();
    }
  }
}
