package dev.similarity.flink.kafka;

import dev.similarity.flink.deadletter.DeadLetterBudget;
import dev.similarity.flink.deadletter.DeadLetterRecord;
import dev.similarity.flink.event.RawCatalogueRecord;
import dev.similarity.flink.internal.Sha256;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.DeadLetterHeaders;
import dev.similarity.schemas.DeadLetterReason;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.metrics.Counter;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.Map;

/**
 * Writes a dead letter keyed like the original record, as an Avro single-object-encoded
 * {@link DeadLetter} holding the original bytes, plus Kafka Connect style {@code __connect.errors.*}
 * headers so existing DLQ tooling can read the reason without Avro. Every dead letter fits the
 * producers' {@code max.request.size}: what it copies is cut to a {@link DeadLetterBudget}, and it
 * carries the whole original's sizes and SHA-256 digests either way.
 */
public final class DeadLetterSerializer implements KafkaRecordSerializationSchema<DeadLetterRecord> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterSerializer.class);

    private final String topic;
    private final DeadLetterBudget budget;
    private transient AvroRecordCodec<DeadLetter> codec;
    private transient Counter truncatedLetters;

    /** @param budget what a dead letter may take: the sink's producer {@code max.request.size} */
    public DeadLetterSerializer(String topic, DeadLetterBudget budget) {
        this.topic = topic;
        this.budget = budget;
    }

    @Override
    public void open(SerializationSchema.InitializationContext context, KafkaSinkContext sinkContext) {
        truncatedLetters = context.getMetricGroup().counter("deadLettersTruncated");
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(DeadLetterRecord record, KafkaSinkContext context, Long timestamp) {
        if (codec == null) {
            codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        }
        DeadLetterBudget.Fitted fitted = budget.fit(record);
        DeadLetter deadLetter = toAvro(record, fitted);
        if (fitted.truncated()) {
            if (truncatedLetters != null) truncatedLetters.inc();
            LOG.warn("dead letter of {} cut to fit max.request.size {} bytes: original key {} bytes, value {} bytes (SHA-256 {})",
                    coordinates(record.source()), budget.maxRequestBytes(), deadLetter.getOriginalKeyBytes(),
                    deadLetter.getOriginalValueBytes(), deadLetter.getOriginalValueSha256());
        }
        RecordHeaders headers = new RecordHeaders();
        for (Map.Entry<String, byte[]> header : DeadLetterHeaders.of(deadLetter).entrySet()) {
            headers.add(header.getKey(), header.getValue());
        }
        return new ProducerRecord<>(topic, null, null, fitted.key(), codec.encode(deadLetter), headers);
    }

    static DeadLetter toAvro(DeadLetterRecord record, DeadLetterBudget.Fitted fitted) {
        RawCatalogueRecord source = record.source();
        byte[] key = source == null ? null : source.key();
        byte[] value = source == null ? null : source.value();
        return DeadLetter.newBuilder()
                .setOriginalKey(fitted.key() == null ? null : ByteBuffer.wrap(fitted.key()))
                .setOriginalValue(fitted.value() == null ? null : ByteBuffer.wrap(fitted.value()))
                .setSourceTopic(fitted.sourceTopic())
                .setSourcePartition(source == null ? null : source.partition())
                .setSourceOffset(source == null ? null : source.offset())
                .setSourceTimestamp(source == null ? null : source.timestamp())
                .setProductId(fitted.productId())
                .setStage(fitted.stage())
                .setReason(DeadLetterReason.valueOf(record.reason()))
                .setErrorMessage(fitted.errorMessage())
                .setErrorClass(fitted.errorClass())
                .setFailedAt(record.failedAt())
                .setTruncated(fitted.truncated())
                .setOriginalKeyBytes(key == null ? null : (long) key.length)
                .setOriginalValueBytes(value == null ? null : (long) value.length)
                .setOriginalKeySha256(Sha256.hex(key))
                .setOriginalValueSha256(Sha256.hex(value))
                .build();
    }

    private static String coordinates(RawCatalogueRecord source) {
        return source == null ? "a record" : source.topic() + "-" + source.partition() + "@" + source.offset();
    }

}
