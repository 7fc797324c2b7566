package dev.similarity.index;

import static dev.similarity.index.TestVectors.unit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardIndexBuilderTest {

  private static String buildError(ShardIndex.Builder builder) {
    return assertThrows(IllegalArgumentException.class, builder::build).getMessage();
  }

  private static void assertMentions(String message, String... fragments) {
    for (String fragment : fragments) {
      assertTrue(message.contains(fragment), "expected '" + fragment + "' in: " + message);
    }
  }

  @Test
  void refusesMissingDimensionAndSaysHowToSetIt() {
    assertMentions(buildError(ShardIndex.builder()), "dimension is not set", "dimension(n)");
  }

  @Test
  void refusesDimensionBeyondLuceneLimit() {
    assertMentions(buildError(ShardIndex.builder().dimension(5000)), "dimension is 5000", "between 1 and 4096");
  }

  @Test
  void refusesHnswSettingsOutOfRange() {
    assertMentions(buildError(ShardIndex.builder().dimension(8).maxConn(0)), "maxConn is 0", "between 1 and 512");
    assertMentions(buildError(ShardIndex.builder().dimension(8).beamWidth(4000)), "beamWidth is 4000");
    assertMentions(buildError(ShardIndex.builder().dimension(8).searchCandidates(0)), "searchCandidates is 0");
  }

  @Test
  void refusesRefreshAndMergeSettingsOutOfRange() {
    assertMentions(buildError(ShardIndex.builder().dimension(8).refreshPendingThreshold(0)),
        "refreshPendingThreshold is 0");
    assertMentions(buildError(ShardIndex.builder().dimension(8).refreshMaxAge(Duration.ZERO)),
        "refreshMaxAge is PT0S", "positive");
    assertMentions(buildError(ShardIndex.builder().dimension(8).refreshMaxAge(null)), "refreshMaxAge is null");
    assertMentions(buildError(ShardIndex.builder().dimension(8).ramBufferMb(0)), "ramBufferMb is 0.0");
    assertMentions(buildError(ShardIndex.builder().dimension(8).mergeSegmentsPerTier(1.5)),
        "mergeSegmentsPerTier is 1.5", "at least 2");
    assertMentions(buildError(ShardIndex.builder().dimension(8).mergeFloorSegmentMb(-1)), "mergeFloorSegmentMb is -1.0");
    assertMentions(buildError(ShardIndex.builder().dimension(8).mergeDeletesPctAllowed(90)),
        "mergeDeletesPctAllowed is 90.0", "between 5 and 50");
  }

  @Test
  void mergeFloorDefaultsToTheBytesOf25000VectorsOfTheDimension() {
    assertEquals(25_000 * (4 * 128 + 8 * 16) / 1048576.0,
        ShardIndex.builder().dimension(128).effectiveMergeFloorSegmentMb(), 1e-9);
    assertTrue(ShardIndex.builder().dimension(784).effectiveMergeFloorSegmentMb() > 75);
    assertEquals(4.0, ShardIndex.builder().dimension(784).mergeFloorSegmentMb(4).effectiveMergeFloorSegmentMb());
  }

  @Test
  void reportsEveryWrongSettingAtOnce() {
    String message = buildError(ShardIndex.builder().maxConn(-1).refreshPendingThreshold(-5));

    assertMentions(message, "dimension is not set", "maxConn is -1", "refreshPendingThreshold is -5");
  }

  @Test
  void refusesAFileAsDirectory(@TempDir Path tmp) throws Exception {
    Path file = Files.writeString(tmp.resolve("not-a-folder"), "x");

    assertMentions(buildError(ShardIndex.builder().dimension(8).directory(file)), "is a file");
  }

  @Test
  void refusesVectorsOfTheWrongDimensionNamingTheProduct() {
    try (ShardIndex index = ShardIndex.builder().dimension(4).build()) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> index.upsert("p-17", unit(1, 0, 0), null));
      assertMentions(e.getMessage(), "vector of product 'p-17' has 3 dimensions", "dimension(4)");
    }
  }

  @Test
  void refusesVectorsThatAreNotUnitLength() {
    try (ShardIndex index = ShardIndex.builder().dimension(4).build()) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> index.upsert("p-1", new float[] {3, 0, 0, 0}, null));
      assertMentions(e.getMessage(), "product 'p-1'", "L2 norm 3.000000", "divide the vector by its L2 norm");
      assertEquals(0, index.size(), "a refused write changes nothing");
    }
  }

  @Test
  void acceptsVectorsWithinFloatRoundingOfUnitLength() {
    try (ShardIndex index = ShardIndex.builder().dimension(4).build()) {
      index.upsert("p-1", new float[] {0.5f, 0.5f, 0.5f, 0.5002f}, null);
      assertEquals(1, index.size());
    }
  }

  @Test
  void refusesNonFiniteVectorsAndBlankIds() {
    try (ShardIndex index = ShardIndex.builder().dimension(4).build()) {
      IllegalArgumentException nan =
          assertThrows(IllegalArgumentException.class,
              () -> index.upsert("p-1", new float[] {1, Float.NaN, 0, 0}, null));
      assertMentions(nan.getMessage(), "NaN at index 1");
      assertThrows(IllegalArgumentException.class, () -> index.upsert(" ", unit(1, 0, 0, 0), null));
      assertThrows(NullPointerException.class, () -> index.upsert(null, unit(1, 0, 0, 0), null));
      assertThrows(IllegalArgumentException.class, () -> index.upsert("p-1", unit(1, 0, 0, 0), ""));
    }
  }

  @Test
  void refusesCallsAfterClose() {
    ShardIndex index = ShardIndex.builder().dimension(4).build();
    index.close();

    assertMentions(assertThrows(IllegalStateException.class, index::size).getMessage(), "is closed");
  }
}
