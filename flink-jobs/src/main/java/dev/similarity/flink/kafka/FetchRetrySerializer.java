package dev.similarity.flink.kafka;

import dev.similarity.flink.embed.FetchRetry;
import dev.similarity.flink.event.RawCatalogueRecord;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Writes an image to be retried to the fetch-retry topic: keyed like the original record, the value
 * the {@link DeadLetter} it would become (original bytes and coordinates, last failure), the retry
 * state in {@link FetchRetryHeaders}.
 */
public final class FetchRetrySerializer implements KafkaRecordSerializationSchema<FetchRetry> {

    private static final long serialVersionUID = 1L;

    private final String topic;
    private transient AvroRecordCodec<DeadLetter> codec;

    public FetchRetrySerializer(String topic) {
        this.topic = topic;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(FetchRetry retry, KafkaSinkContext context, Long timestamp) {
        if (codec == null) {
            codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        }
        RecordHeaders headers = new RecordHeaders();
        FetchRetryHeaders.write(retry.state(), headers);
        RawCatalogueRecord source = retry.letter().source();
        return new ProducerRecord<>(topic, null, null, source == null ? null : source.key(),
                codec.encode(DeadLetterSerializer.toAvro(retry.letter())), headers);
    }
}
