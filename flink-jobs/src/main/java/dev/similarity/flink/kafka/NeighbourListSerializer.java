package dev.similarity.flink.kafka;

import dev.similarity.flink.index.NeighbourListUpdate;
import dev.similarity.schemas.Neighbour;
import dev.similarity.schemas.NeighbourList;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a list as an Avro single-object-encoded {@link NeighbourList} keyed by product id (UTF-8),
 * or a tombstone (null value) for a removed product, so the compacted topic forgets it.
 */
public final class NeighbourListSerializer implements KafkaRecordSerializationSchema<NeighbourListUpdate> {

    private static final long serialVersionUID = 1L;
    public static final AvroWireFormat WIRE_FORMAT = AvroWireFormat.SINGLE_OBJECT;

    private final String topic;
    private final String modelId;
    private transient AvroRecordCodec<NeighbourList> codec;

    public NeighbourListSerializer(String topic, String modelId) {
        this.topic = topic;
        this.modelId = modelId;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(NeighbourListUpdate update, KafkaSinkContext context, Long timestamp) {
        byte[] key = update.productId().getBytes(StandardCharsets.UTF_8);
        if (update.removed()) {
            return new ProducerRecord<>(topic, key, null);
        }
        if (codec == null) {
            codec = AvroRecordCodec.of(NeighbourList.class, WIRE_FORMAT);
        }
        return new ProducerRecord<>(topic, key, codec.encode(toAvro(update, modelId)));
    }

    static NeighbourList toAvro(NeighbourListUpdate update, String modelId) {
        List<Neighbour> neighbours = new ArrayList<>(update.neighbourIds().length);
        for (int i = 0; i < update.neighbourIds().length; i++) {
            neighbours.add(new Neighbour(update.neighbourIds()[i], update.scores()[i], i + 1));
        }
        return NeighbourList.newBuilder()
                .setProductId(update.productId())
                .setNeighbours(neighbours)
                .setModelId(modelId)
                .setEventTimestamp(update.eventTimestamp())
                .setComputedTimestamp(update.computedTimestamp())
                .setCatalogueVersion(update.catalogueVersion())
                .build();
    }
}
