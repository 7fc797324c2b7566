package dev.similarity.index;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.index.internal.ProductDocuments;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.ShardSnapshot.SnapshotHit;
import dev.similarity.index.snapshot.ShardSnapshotWriter;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.snapshot.SnapshotStore.RetentionPolicy;
import dev.similarity.index.tools.ClusteredUnitVectors;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.SegmentReader;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Embeddings of ImageNet backbones (2,048-d pooled features of ResNet-50 and Inception-V3), above
 * Lucene's default limit of 1,024 dimensions, through the whole index: writes, searches, deletes,
 * commits a stock Lucene reader opens, and published snapshots.
 */
class ShardIndexHighDimensionTest {

  private static final int DIM = 2_048;

  private static List<float[]> vectors(int count) {
    ClusteredUnitVectors generator = new ClusteredUnitVectors(DIM, 10, 1.0, 5);
    List<float[]> vectors = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      vectors.add(generator.next());
    }
    return vectors;
  }

  private static List<String> ids(List<ScoredProduct> hits) {
    return hits.stream().map(ScoredProduct::productId).toList();
  }

  @Test
  void acceptsDimensionsUpTo4096() {
    try (ShardIndex index = ShardIndex.builder().dimension(4_096).build()) {
      index.upsert("a", TestVectors.axis(4_096, 4_095), null);
      index.refresh();
      assertThat(ids(index.search(TestVectors.axis(4_096, 4_095), 1, SearchOptions.NONE))).containsExactly("a");
    }
  }

  @Test
  void productsOf2048DimensionsAreAddedSearchedAndDeletedPendingAndRefreshed() {
    List<float[]> vectors = vectors(300);
    try (ShardIndex index = ShardIndex.builder().dimension(DIM).build()) {
      for (int i = 0; i < 200; i++) {
        index.upsert("p" + i, vectors.get(i), null);
      }
      index.refresh(); // p0..p199 in the HNSW graph, p200..p299 pending
      for (int i = 200; i < 300; i++) {
        index.upsert("p" + i, vectors.get(i), null);
      }
      assertThat(index.delete("p5")).isTrue();
      assertThat(index.delete("p250")).isTrue();

      for (int i : new int[] {3, 150, 299}) {
        List<ScoredProduct> hits = index.search(vectors.get(i), 5, SearchOptions.NONE);
        assertThat(hits.get(0).productId()).isEqualTo("p" + i);
        assertThat(hits.get(0).score()).isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-4f));
      }
      assertThat(ids(index.search(vectors.get(5), 10, SearchOptions.NONE))).doesNotContain("p5");
      assertThat(ids(index.search(vectors.get(250), 10, SearchOptions.NONE))).doesNotContain("p250");
      assertThat(index.size()).isEqualTo(298);

      index.refresh();
      assertThat(index.search(vectors.get(299), 1, SearchOptions.NONE).get(0).productId()).isEqualTo("p299");
      assertThat(ids(index.search(vectors.get(250), 10, SearchOptions.NONE))).doesNotContain("p250");
      assertThat(index.size()).isEqualTo(298);
    }
  }

  @Test
  void a2048DimensionalCommitOpensWithStockLuceneAndNamesTheStockFormat(@TempDir Path folder) throws Exception {
    List<float[]> vectors = vectors(50);
    try (ShardIndex index = ShardIndex.builder().dimension(DIM).directory(folder).build()) {
      for (int i = 0; i < vectors.size(); i++) {
        index.upsert("p" + i, vectors.get(i), null);
      }
      index.commit(Map.of());
    }
    // A plain reader: Lucene's default codec and SPI formats, none of our classes.
    try (DirectoryReader reader = DirectoryReader.open(FSDirectory.open(folder))) {
      assertThat(reader.numDocs()).isEqualTo(50);
      for (LeafReaderContext leaf : reader.leaves()) {
        FieldInfo field = leaf.reader().getFieldInfos().fieldInfo(ProductDocuments.VECTOR_FIELD);
        assertThat(field.getVectorDimension()).isEqualTo(DIM);
        assertThat(field.attributes()).containsValue("Lucene99HnswVectorsFormat");
        assertThat(((SegmentReader) leaf.reader()).getSegmentInfo().info.getCodec().getName())
            .isEqualTo("Lucene103");
      }
      TopDocs top = new IndexSearcher(reader)
          .search(new KnnFloatVectorQuery(ProductDocuments.VECTOR_FIELD, vectors.get(7), 3), 3);
      String best = reader.storedFields().document(top.scoreDocs[0].doc).get(ProductDocuments.ID_FIELD);
      assertThat(best).isEqualTo("p7");
    }
  }

  @Test
  void a2048DimensionalSnapshotIsPublishedLoadedAndSearched(@TempDir Path folder) throws Exception {
    List<float[]> vectors = vectors(120);
    SnapshotStore store = SnapshotStore.at(folder.toString());
    try (ShardIndex index = ShardIndex.builder().dimension(DIM).build()) {
      for (int i = 0; i < vectors.size(); i++) {
        index.upsert("p" + i, vectors.get(i), "c" + (i % 3), "http://img/" + i + ".png");
      }
      ShardSnapshotWriter writer = new ShardSnapshotWriter(store, 0, 1, "backbone:2048", DIM,
          new RetentionPolicy(2, Duration.ZERO), Runnable::run, Clock.systemUTC());
      writer.capture(index, 1);
      writer.publish(1);
    }
    try (ShardSnapshot snapshot = ShardSnapshot.load(store, store.latest(0).orElseThrow())) {
      assertThat(snapshot.manifest().dimension()).isEqualTo(DIM);
      assertThat(snapshot.documentCount()).isEqualTo(120);
      List<SnapshotHit> hits = snapshot.search(vectors.get(42), 5, null, "p42", 50);
      assertThat(hits).hasSize(5).noneMatch(hit -> hit.productId().equals("p42"));
      List<SnapshotHit> self = snapshot.search(vectors.get(42), 1, null, null, 50);
      assertThat(self.get(0).productId()).isEqualTo("p42");
      assertThat(snapshot.product("p42").orElseThrow().vector()).containsExactly(vectors.get(42));
    }
  }
}
