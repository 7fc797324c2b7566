package dev.similarity.index.internal;

import static org.apache.lucene.search.DocIdSetIterator.NO_MORE_DOCS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.util.VectorUtil;
import org.apache.lucene.util.hnsw.HnswGraph;
import org.junit.jupiter.api.Test;

/** The heap copy of a segment's HNSW graph that the search path walks instead of the codec's. */
class HeapHnswGraphTest {

  @Test
  void theCopyHasEveryLevelNodeAndNeighbourListOfTheCodecsGraph() throws IOException {
    try (ByteBuffersDirectory directory = new ByteBuffersDirectory()) {
      SplittableRandom random = new SplittableRandom(3);
      try (IndexWriter writer =
          new IndexWriter(
              directory,
              new IndexWriterConfig().setCodec(new HnswShardCodec(8, 40)).setRAMBufferSizeMB(256))) {
        for (int i = 0; i < 4_000; i++) {
          float[] vector = new float[16];
          for (int d = 0; d < vector.length; d++) {
            vector[d] = (float) random.nextGaussian();
          }
          Document document = new Document();
          document.add(
              new KnnFloatVectorField(
                  ProductDocuments.VECTOR_FIELD,
                  VectorUtil.l2normalize(vector),
                  ProductDocuments.SIMILARITY));
          writer.addDocument(document);
        }
        writer.forceMerge(1);
      }
      try (DirectoryReader reader = DirectoryReader.open(directory)) {
        LeafReader segment = reader.leaves().get(0).reader();
        HnswGraph codec = SegmentGraph.graphOf(segment);
        HeapHnswGraph copy = HeapHnswGraph.copyOf(codec);

        assertTrue(codec.numLevels() > 1, "the test needs upper levels");
        assertEquals(codec.numLevels(), copy.numLevels());
        assertEquals(codec.size(), copy.size());
        assertEquals(codec.entryNode(), copy.entryNode());
        assertEquals(codec.maxConn(), copy.maxConn());
        for (int level = 0; level < codec.numLevels(); level++) {
          int[] nodes = HnswGraph.NodesIterator.getSortedNodes(codec.getNodesOnLevel(level));
          assertArrayEquals(
              nodes,
              HnswGraph.NodesIterator.getSortedNodes(copy.getNodesOnLevel(level)),
              "nodes on level " + level);
          for (int node : nodes) {
            int[] expected = neighbours(codec, level, node);
            assertArrayEquals(expected, neighbours(copy, level, node), "level " + level + ", node " + node);
            assertEquals(expected.length, copy.neighborCount());
          }
        }
      }
    }
  }

  private static int[] neighbours(HnswGraph graph, int level, int node) throws IOException {
    graph.seek(level, node);
    List<Integer> list = new ArrayList<>();
    for (int n = graph.nextNeighbor(); n != NO_MORE_DOCS; n = graph.nextNeighbor()) {
      list.add(n);
    }
    return list.stream().mapToInt(Integer::intValue).toArray();
  }
}
