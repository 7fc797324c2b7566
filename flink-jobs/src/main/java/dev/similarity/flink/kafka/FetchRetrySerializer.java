package dev.similarity.flink.kafka;

import dev.similarity.flink.deadletter.DeadLetterBudget;
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
    private final DeadLetterBudget budget;
    private transient AvroRecordCodec<DeadLetter> codec;

    /** @param budget the sink's request size; a retry that would not fit it is dead-lettered upstream instead */
    public FetchRetrySerializer(String topic, DeadLetterBudget budget) {
        this.topic = topic;
        this.budget = budget;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(FetchRetry retry, KafkaSinkContext context, Long timestamp) {
        if (codec == null) {
            codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        }
        RecordHeaders headers = new RecordHeaders();
        FetchRetryHeaders.write(retry.state(), headers);
        RawCatalogueRecord source = retry.letter().source();
        DeadLetterBudget.Fitted fitted = budget.fit(retry.letter());
        return new ProducerRecord<>(topic, null, null, source == null ? null : source.key(),
                codec.encode(DeadLetterSerializer.toAvro(retry.letter(), fitted)), headers);
    }
}
