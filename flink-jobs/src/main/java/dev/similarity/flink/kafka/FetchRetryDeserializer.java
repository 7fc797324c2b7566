package dev.similarity.flink.kafka;

import dev.similarity.flink.event.RawCatalogueRecord;
import dev.similarity.flink.event.RetryState;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.ByteBuffer;

/**
 * Reads the fetch-retry topic back into the catalogue records the retries are of, with their
 * {@link RetryState}. A record that is not a {@code DeadLetter} is handed on as it is (due now), so
 * the catalogue decoder dead-letters it with its coordinates instead of it being dropped here.
 */
public final class FetchRetryDeserializer implements KafkaRecordDeserializationSchema<RawCatalogueRecord> {

    private static final long serialVersionUID = 1L;

    private transient AvroRecordCodec<DeadLetter> codec;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawCatalogueRecord> out) {
        if (codec == null) {
            codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        }
        RetryState state = FetchRetryHeaders.read(record.headers(), System.currentTimeMillis());
        DeadLetter letter;
        try {
            letter = record.value() == null ? null : codec.decode(record.value());
        } catch (Exception e) {
            letter = null;
        }
        if (letter == null) {
            out.collect(new RawCatalogueRecord(record.key(), record.value(), record.topic(), record.partition(),
                    record.offset(), record.timestamp(), state));
            return;
        }
        out.collect(new RawCatalogueRecord(bytes(letter.getOriginalKey()), bytes(letter.getOriginalValue()),
                letter.getSourceTopic().toString(),
                letter.getSourcePartition() == null ? -1 : letter.getSourcePartition(),
                letter.getSourceOffset() == null ? -1 : letter.getSourceOffset(),
                letter.getSourceTimestamp() == null ? record.timestamp() : letter.getSourceTimestamp(),
                state));
    }

    private static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) return null;
        ByteBuffer copy = buffer.duplicate();
        byte[] bytes = new byte[copy.remaining()];
        copy.get(bytes);
        return bytes;
    }

    @Override
    public TypeInformation<RawCatalogueRecord> getProducedType() {
        return TypeInformation.of(RawCatalogueRecord.class);
    }
}
