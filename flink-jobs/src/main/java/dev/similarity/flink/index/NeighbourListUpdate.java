package dev.similarity.flink.index;

/**
 * A list to publish under key {@code productId}: its top-k neighbours, or a tombstone when
 * {@code removed}. {@code eventTimestamp} is the time of the catalogue event that caused it.
 */
public record NeighbourListUpdate(
        String productId,
        boolean removed,
        String[] neighbourIds,
        float[] scores,
        long catalogueVersion,
        long eventTimestamp,
        long computedTimestamp) {}
