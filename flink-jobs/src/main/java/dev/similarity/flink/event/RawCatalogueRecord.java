package dev.similarity.flink.event;

/**
 * A catalogue topic record as it came off Kafka, before decoding: what a dead letter must keep.
 *
 * @param retry null for a record from the catalogue topic; its retry state when it came back
 *              through the fetch-retry topic (the coordinates are then the original record's)
 */
public record RawCatalogueRecord(
        byte[] key, byte[] value, String topic, int partition, long offset, long timestamp, RetryState retry) {

    public RawCatalogueRecord(byte[] key, byte[] value, String topic, int partition, long offset, long timestamp) {
        this(key, value, topic, partition, offset, timestamp, null);
    }

    public boolean isRetry() {
        return retry != null;
    }

    public RawCatalogueRecord withRetry(RetryState state) {
        return new RawCatalogueRecord(key, value, topic, partition, offset, timestamp, state);
    }
}
