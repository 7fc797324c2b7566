package dev.similarity.index;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.similarity.index.tools.ClusteredUnitVectors;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Closing a shard (a Flink task cancelled on failover) must not wait for its background merges. */
class ShardIndexCloseTest {

  private static final int DIM = 128;
  /** Vectors per segment: merging two segments inserts this many nodes into a graph, several seconds. */
  private static final int SEGMENT = 24_000;

  /**
   * Two segments of equal size, merged in the background into one (mergeFullRatio 0.5); close comes
   * while the merge builds the merged graph. Lucene checks for an abort only when a merge writes,
   * and a graph build writes nothing until it ends, so without AbortableMergeDirectory close waited
   * for the whole build (here 9 s of CPU; at 10^6 products longer than Flink's 180 s task
   * cancellation timeout). Close must take well under a second.
   */
  @Test
  void closeAbortsARunningMergeInsteadOfWaitingForItsGraphBuild() throws Exception {
    ClusteredUnitVectors vectors = new ClusteredUnitVectors(DIM, 20, 1.0, 11);
    ShardIndex index =
        ShardIndex.builder()
            .dimension(DIM)
            .mergeMaxSegments(2)
            .mergeFullRatio(0.5)
            .refreshPendingThreshold(10 * SEGMENT)
            .refreshMaxAge(Duration.ofDays(1))
            .build();
    for (int segment = 0; segment < 2; segment++) {
      for (int i = 0; i < SEGMENT; i++) {
        index.upsert("s" + segment + "-" + i, vectors.next(), null);
      }
      index.refresh(); // flushes the segment; the second flush starts the merge of both
    }
    long mergeStarted = System.nanoTime();
    // Into the graph build (9 s of CPU on a CI core). The merge's first phases do check for an
    // abort: at 300 ms close was prompt even without the fix, at 2 s and later it waited.
    Thread.sleep(2_000);
    assumeTrue(index.stats().mergesCompleted() == 0, "the merge ended before close: a machine too fast for this test");

    long start = System.nanoTime();
    index.close();
    long closeMillis = (System.nanoTime() - start) / 1_000_000;

    System.out.printf(
        "close took %d ms, %d ms after the merge of 2 x %,d vectors began%n",
        closeMillis, (start - mergeStarted) / 1_000_000, SEGMENT);
    assertTrue(closeMillis < 1_000, "close waited " + closeMillis + " ms for a running merge");
  }
}
