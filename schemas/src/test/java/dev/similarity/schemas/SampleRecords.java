package dev.similarity.schemas;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Fully populated records for tests. */
public final class SampleRecords {

  private SampleRecords() {}

  public static CatalogueEvent.Builder upsert(String productId) {
    return CatalogueEvent.newBuilder()
        .setEventId("evt-" + productId + "-7")
        .setTimestamp(1_763_700_000_000L)
        .setClientTimestamp(1_763_699_999_500L)
        .setPartyId("editor-42")
        .setSessionId(null)
        .setRemoteHost("10.1.2.3")
        .setProductId(productId)
        .setKind(CatalogueEventKind.UPSERTED)
        .setCatalogueVersion(7)
        .setImageUrl("https://images.example.com/p/" + productId + ".jpg")
        .setTitle("Leather sneaker, white – größe 42")
        .setCategoryPath(List.of("Women", "Shoes", "Sneakers"))
        .setBrand("Acme")
        .setPrice(Price.newBuilder().setAmount(new BigDecimal("89.9500")).setCurrency("EUR").build())
        .setAvailability(Availability.IN_STOCK)
        .setAttributes(Map.of("colour", "white", "material", "leather"));
  }

  public static NeighbourList neighbourList(String productId) {
    return NeighbourList.newBuilder()
        .setProductId(productId)
        .setNeighbours(List.of(
            Neighbour.newBuilder().setProductId("p-2").setScore(0.93f).setRank(1).build(),
            Neighbour.newBuilder().setProductId("p-3").setScore(0.81f).setRank(2).build()))
        .setModelId("resnet-test-v1")
        .setEventTimestamp(1_763_700_000_000L)
        .setComputedTimestamp(1_763_700_000_750L)
        .setCatalogueVersion(7)
        .build();
  }

  public static DeadLetter.Builder deadLetter() {
    return DeadLetter.newBuilder()
        .setOriginalKey(ByteBuffer.wrap("p-1".getBytes(StandardCharsets.UTF_8)))
        .setOriginalValue(ByteBuffer.wrap(new byte[] {1, 2, 3}))
        .setSourceTopic("catalogue-events")
        .setSourcePartition(3)
        .setSourceOffset(12_345L)
        .setSourceTimestamp(1_763_700_000_000L)
        .setProductId("p-1")
        .setStage("fetch")
        .setReason(DeadLetterReason.IMAGE_TOO_LARGE)
        .setErrorMessage("image for product p-1 is 41 MB, over embedding.image.max-bytes (10 MB)")
        .setErrorClass("dev.similarity.embedding.ImageTooLargeException")
        .setFailedAt(1_763_700_001_000L);
  }
}
