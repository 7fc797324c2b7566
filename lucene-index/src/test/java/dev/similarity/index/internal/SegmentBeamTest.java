package dev.similarity.index.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The beam each segment's graph is searched with (MaskedReaderView.segmentBeam). */
class SegmentBeamTest {

  @Test
  void aSegmentHoldingMostOfTheShardGetsEveryCandidate() {
    assertEquals(50, MaskedReaderView.segmentBeam(10, 50, 1.0));
    assertEquals(50, MaskedReaderView.segmentBeam(10, 50, 0.76));
  }

  /** Its expected share of the best candidates plus four standard deviations (binomial). */
  @Test
  void aSegmentWithAFifthOfTheShardGetsItsShareOfTheCandidatesPlusAMargin() {
    assertEquals(22, MaskedReaderView.segmentBeam(10, 50, 0.2)); // 10 + 4 sqrt(8)
    assertEquals(26, MaskedReaderView.segmentBeam(10, 30, 0.5)); // 15 + 4 sqrt(7.5)
  }

  @Test
  void aSmallSegmentGetsANarrowerBeamButNeverFewerThanK() {
    assertEquals(16, MaskedReaderView.segmentBeam(10, 200, 0.03)); // 6 + 4 sqrt(5.82)
    assertEquals(10, MaskedReaderView.segmentBeam(10, 50, 0.03)); // 1.5 + 4 sqrt(1.455) < k
    assertEquals(10, MaskedReaderView.segmentBeam(10, 50, 0.001));
    assertEquals(10, MaskedReaderView.segmentBeam(10, 50, 0.0));
    assertEquals(25, MaskedReaderView.segmentBeam(25, 50, 0.001), "k is the floor");
  }

  @Test
  void theBeamNeverExceedsTheCandidates() {
    for (double p = 0; p <= 1; p += 0.01) {
      int beam = MaskedReaderView.segmentBeam(10, 30, p);
      assertTrue(beam >= 10 && beam <= 30, "p=" + p + ": " + beam);
    }
  }

  /** With candidates at least the shard's nodes, every segment is searched exhaustively. */
  @Test
  void candidatesBeyondTheShardStillCoverEverySegmentsNodes() {
    int shardNodes = 1_000;
    for (int segmentNodes : new int[] {1, 7, 50, 300, 999}) {
      double p = segmentNodes / (double) shardNodes;
      assertTrue(MaskedReaderView.segmentBeam(10, shardNodes, p) >= segmentNodes);
    }
  }
}
