package dev.similarity.index.internal;

import static org.apache.lucene.search.DocIdSetIterator.NO_MORE_DOCS;

import java.io.IOException;
import java.util.Arrays;
import org.apache.lucene.util.hnsw.HnswGraph;

/**
 * An immutable copy of a segment's HNSW graph on the heap: each node's neighbour ordinals per level
 * as an {@code int[]}, read once from the codec's graph.
 *
 * <p>Why: an in-memory shard's graph lives in a {@code ByteBuffersDirectory}, and the codec's
 * graph decodes a node's neighbour list from byte buffers (group-varint, monotonic offsets) each
 * time a search visits the node: about a fifth of a search's time on a live shard of our 128-d
 * embeddings (JFR; the dot products were about 40 %). Here a visit is an array read.
 *
 * <p>Shapes: level 0 holds every node ({@code size()} ordinals); level {@code l > 0} holds the
 * sorted ordinals {@code nodesOnLevel[l]} with their neighbour lists at the same index. Cost: 4
 * bytes per neighbour (at most {@code 2 * maxConn} on level 0, {@code maxConn} above) plus an array
 * header per node and level. Not thread-safe (one seek position), like the codec's graph.
 */
final class HeapHnswGraph extends HnswGraph {

  private static final int[] NO_NEIGHBOURS = new int[0];

  /** By level: the neighbour lists, by ordinal on level 0, by index into nodesOnLevel above. */
  private final int[][][] neighbours;
  /** By level: the sorted node ordinals of the level; null for level 0 (every ordinal). */
  private final int[][] nodesOnLevel;
  private final int entryNode;
  private final int maxConn;
  private int[] current = NO_NEIGHBOURS;
  private int upTo;

  private HeapHnswGraph(int[][][] neighbours, int[][] nodesOnLevel, int entryNode, int maxConn) {
    this.neighbours = neighbours;
    this.nodesOnLevel = nodesOnLevel;
    this.entryNode = entryNode;
    this.maxConn = maxConn;
  }

  /** Reads every level of {@code graph} (which it seeks: not shared with a search meanwhile). */
  static HeapHnswGraph copyOf(HnswGraph graph) throws IOException {
    int levels = graph.numLevels();
    int[][][] neighbours = new int[levels][][];
    int[][] nodesOnLevel = new int[levels][];
    int[] buffer = new int[64];
    for (int level = 0; level < levels; level++) {
      int[] nodes;
      if (level == 0) {
        nodes = null;
      } else {
        nodes = NodesIterator.getSortedNodes(graph.getNodesOnLevel(level));
      }
      int count = level == 0 ? graph.size() : nodes.length;
      int[][] lists = new int[count][];
      for (int i = 0; i < count; i++) {
        graph.seek(level, level == 0 ? i : nodes[i]);
        int n = 0;
        for (int neighbour = graph.nextNeighbor();
            neighbour != NO_MORE_DOCS;
            neighbour = graph.nextNeighbor()) {
          if (n == buffer.length) {
            buffer = Arrays.copyOf(buffer, 2 * n);
          }
          buffer[n++] = neighbour;
        }
        lists[i] = n == 0 ? NO_NEIGHBOURS : Arrays.copyOf(buffer, n);
      }
      neighbours[level] = lists;
      nodesOnLevel[level] = nodes;
    }
    return new HeapHnswGraph(neighbours, nodesOnLevel, graph.entryNode(), graph.maxConn());
  }

  @Override
  public void seek(int level, int target) {
    int index = level == 0 ? target : Arrays.binarySearch(nodesOnLevel[level], target);
    if (index < 0) {
      throw new IllegalArgumentException("node " + target + " is not on level " + level);
    }
    current = neighbours[level][index];
    upTo = 0;
  }

  @Override
  public int nextNeighbor() {
    return upTo < current.length ? current[upTo++] : NO_MORE_DOCS;
  }

  @Override
  public int neighborCount() {
    return current.length;
  }

  @Override
  public int size() {
    return neighbours[0].length;
  }

  @Override
  public int numLevels() {
    return neighbours.length;
  }

  @Override
  public int maxConn() {
    return maxConn;
  }

  @Override
  public int entryNode() {
    return entryNode;
  }

  @Override
  public NodesIterator getNodesOnLevel(int level) {
    if (level == 0) {
      return new ArrayNodesIterator(size());
    }
    int[] nodes = nodesOnLevel[level];
    return new ArrayNodesIterator(nodes, nodes.length);
  }
}
