package dev.similarity.flink.event;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Hands records on undecoded, so that undecodable ones reach the dead letters with their coordinates. */
public final class KafkaCatalogueRecordSchema implements KafkaRecordDeserializationSchema<RawCatalogueRecord> {

    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<RawCatalogueRecord> out) {
        out.collect(new RawCatalogueRecord(record.key(), record.value(), record.topic(), record.partition(),
                record.offset(), record.timestamp()));
    }

    @Override
    public TypeInformation<RawCatalogueRecord> getProducedType() {
        return TypeInformation.of(RawCatalogueRecord.class);
    }
}
