package dev.similarity.index;

import static dev.similarity.index.TestVectors.unit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardIndexCommitTest {

  @Test
  void commitDescribesItsGenerationFilesAndUserData(@TempDir Path folder) throws Exception {
    try (ShardIndex index = ShardIndex.builder().dimension(4).directory(folder).build()) {
      index.upsert("a", unit(1, 0, 0, 0), "shoes");

      ShardCommit first = index.commit(Map.of("checkpoint", "7"));
      index.upsert("b", unit(0, 1, 0, 0), null);
      ShardCommit second = index.commit(Map.of("checkpoint", "8"));

      assertTrue(second.generation() > first.generation());
      assertEquals("segments_" + Long.toString(second.generation(), Character.MAX_RADIX),
          second.segmentsFileName());
      assertEquals(Map.of("checkpoint", "8"), second.userData());
      assertTrue(second.fileSizes().containsKey(second.segmentsFileName()));
      for (Map.Entry<String, Long> file : second.fileSizes().entrySet()) {
        assertEquals(Files.size(folder.resolve(file.getKey())), file.getValue(), file.getKey());
      }
      assertEquals(second.fileSizes().values().stream().mapToLong(Long::longValue).sum(), second.totalBytes());
    }
  }

  @Test
  void committedProductsCanBeReadByStockLucene(@TempDir Path folder) throws Exception {
    try (ShardIndex index = ShardIndex.builder().dimension(4).maxConn(8).beamWidth(50).directory(folder).build()) {
      index.upsert("a", unit(1, 0, 0, 0), null);
      index.upsert("b", unit(0, 1, 0, 0), null);
      index.commit(Map.of());
    }
    try (DirectoryReader reader = DirectoryReader.open(FSDirectory.open(folder))) {
      assertEquals(2, reader.numDocs(), "opened with Lucene's default codec, not ours");
    }
  }

  @Test
  void reopeningAFolderKeepsCommittedProductsOnly(@TempDir Path folder) {
    try (ShardIndex index = ShardIndex.builder().dimension(4).directory(folder).build()) {
      index.upsert("committed", unit(1, 0, 0, 0), null);
      index.commit(Map.of("checkpoint", "1"));
      index.upsert("uncommitted", unit(0, 1, 0, 0), null);
      index.refresh();
    }
    try (ShardIndex reopened = ShardIndex.builder().dimension(4).directory(folder).build()) {
      assertTrue(reopened.contains("committed"));
      assertFalse(reopened.contains("uncommitted"), "close() does not commit");
      assertEquals(List.of("committed"),
          reopened.search(unit(1, 0, 0, 0), 5, SearchOptions.NONE).stream().map(ScoredProduct::productId).toList());
    }
  }

  @Test
  void refusesToReopenAFolderWithAnotherDimension(@TempDir Path folder) {
    try (ShardIndex index = ShardIndex.builder().dimension(4).directory(folder).build()) {
      index.upsert("a", unit(1, 0, 0, 0), null);
      index.commit(Map.of());
    }
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> ShardIndex.builder().dimension(8).directory(folder).build());
    assertTrue(e.getMessage().contains("holds 4-dimensional DOT_PRODUCT vectors, but dimension(8)"), e.getMessage());
  }

  @Test
  void inMemoryIndexCommitsToo() {
    try (ShardIndex index = ShardIndex.builder().dimension(4).build()) {
      index.upsert("a", unit(1, 0, 0, 0), null);
      ShardCommit commit = index.commit(Map.of("k", "v"));
      assertEquals(Map.of("k", "v"), commit.userData());
      assertTrue(commit.totalBytes() > 0);
    }
  }
}
