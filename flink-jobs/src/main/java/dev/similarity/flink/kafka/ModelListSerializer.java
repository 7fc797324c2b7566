package dev.similarity.flink.kafka;

import dev.similarity.flink.upgrade.ModelList;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * The lists topic's records during a model upgrade: as {@link NeighbourListSerializer} writes them,
 * each with the id of the model that computed it.
 */
public final class ModelListSerializer implements KafkaRecordSerializationSchema<ModelList> {

    private static final long serialVersionUID = 1L;

    private final NeighbourListSerializer previous;
    private final NeighbourListSerializer next;

    /** @param previousModelId and {@code nextModelId}: qualified ids ({@code modelId@version}) */
    public ModelListSerializer(String topic, String previousModelId, String nextModelId) {
        this.previous = new NeighbourListSerializer(topic, previousModelId);
        this.next = new NeighbourListSerializer(topic, nextModelId);
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(ModelList list, KafkaSinkContext context, Long timestamp) {
        return (list.next() ? next : previous).serialize(list.update(), context, timestamp);
    }
}
