package dev.similarity.flink.event;

/** A catalogue topic record as it came off Kafka, before decoding: what a dead letter must keep. */
public record RawCatalogueRecord(
        byte[] key, byte[] value, String topic, int partition, long offset, long timestamp) {}
