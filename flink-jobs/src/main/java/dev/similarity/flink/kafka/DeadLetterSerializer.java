package dev.similarity.flink.kafka;

import dev.similarity.flink.deadletter.DeadLetterRecord;
import dev.similarity.flink.event.RawCatalogueRecord;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.DeadLetterHeaders;
import dev.similarity.schemas.DeadLetterReason;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Writes a dead letter keyed like the original record, as an Avro single-object-encoded
 * {@link DeadLetter} holding the original bytes, plus Kafka Connect style {@code __connect.errors.*}
 * headers so existing DLQ tooling can read the reason without Avro.
 */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetterRecord> {

    private static final long serialVersionUID = 1L;

    private final String topic;
    private transient AvroRecordCodec<DeadLetter> codec;

    public DeadLetterSerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeadLetterRecord record, KafkaSinkContext context, Long timestamp) {
        if (codec == null) {
            codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        }
        DeadLetter deadLetter = toAvro(record);
        RecordHeaders headers = new RecordHeaders();
        for (Map.Entry<String, byte[]> header : DeadLetterHeaders.of(deadLetter).entrySet()) {
            headers.add(header.getKey(), header.getValue());
        }
        RawCatalogueRecord source = record.source();
        return new ProducerRecord<>(topic, null, null, source == null ? null : source.key(), codec.encode(deadLetter), headers);
    }

    static DeadLetter toAvro(DeadLetterRecord record) {
        RawCatalogueRecord source = record.source();
        return DeadLetter.newBuilder()
                .setOriginalKey(source == null || source.key() == null ? null : ByteBuffer.wrap(source.key()))
                .setOriginalValue(source == null || source.value() == null ? null : ByteBuffer.wrap(source.value()))
                .setSourceTopic(source == null ? "" : source.topic())
                .setSourcePartition(source == null ? null : source.partition())
                .setSourceOffset(source == null ? null : source.offset())
                .setSourceTimestamp(source == null ? null : source.timestamp())
                .setProductId(record.productId())
                .setStage(record.stage())
                .setReason(DeadLetterReason.valueOf(record.reason()))
                .setErrorMessage(record.message())
                .setErrorClass(record.errorClass() == null ? "" : record.errorClass())
                .setFailedAt(record.failedAt())
                .build();
    }
}
