package dev.similarity.flink.demo;

import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventKind;
import dev.similarity.schemas.ImageEmbedding;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

/** Writes catalogue events to Kafka the way a catalogue system would: keyed by product id. */
public final class CatalogueFeeder implements AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;
    private final AvroRecordCodec<CatalogueEvent> codec;
    private final String topic;
    private final AtomicReference<Exception> firstFailure = new AtomicReference<>();

    public CatalogueFeeder(String bootstrapServers, String topic, AvroWireFormat format) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        this.producer = new KafkaProducer<>(props);
        this.codec = AvroRecordCodec.of(CatalogueEvent.class, format);
        this.topic = topic;
    }

    /** Sends an upsert (or image change); returns the event's timestamp. */
    public long upsert(String productId, String imageUrl, String category, long version, boolean imageChanged) {
        return upsert(productId, imageUrl, category, version, imageChanged, null);
    }

    /**
     * As above, the event carrying the image's {@code embedding} (null: none), so the job indexes that
     * vector and fetches nothing; see {@link dev.similarity.schemas.EmbeddingVectors#of}.
     */
    public long upsert(String productId, String imageUrl, String category, long version, boolean imageChanged,
                       ImageEmbedding embedding) {
        long now = System.currentTimeMillis();
        CatalogueEvent event = event(productId, imageChanged ? CatalogueEventKind.IMAGE_CHANGED : CatalogueEventKind.UPSERTED,
                imageUrl, category, version, now);
        event.setEmbedding(embedding);
        send(productId, event);
        return now;
    }

    public long remove(String productId, long version) {
        long now = System.currentTimeMillis();
        send(productId, event(productId, CatalogueEventKind.REMOVED, null, null, version, now));
        return now;
    }

    /** Sends bytes as they are: how tests put malformed records on the topic. */
    public void sendRaw(String key, byte[] value) {
        send(key, value);
    }

    /** Waits until everything sent is acknowledged; throws the first send failure, if any. */
    public void flush() {
        producer.flush();
        Exception failure = firstFailure.get();
        if (failure != null) {
            throw new IllegalStateException("sending catalogue events to " + topic + " failed: " + failure, failure);
        }
    }

    private void send(String productId, CatalogueEvent event) {
        send(productId, codec.encode(event));
    }

    private void send(String key, byte[] value) {
        producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value), (metadata, error) -> {
            if (error != null) firstFailure.compareAndSet(null, error);
        });
    }

    static CatalogueEvent event(String productId, CatalogueEventKind kind, String imageUrl, String category,
                                long version, long timestamp) {
        return CatalogueEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString())
                .setTimestamp(timestamp)
                .setClientTimestamp(timestamp)
                .setRemoteHost("127.0.0.1")
                .setProductId(productId)
                .setKind(kind)
                .setCatalogueVersion(version)
                .setImageUrl(imageUrl)
                .setTitle(category == null ? null : category + " " + productId)
                .setCategoryPath(category == null ? List.of() : List.of(category))
                .build();
    }

    @Override
    public void close() {
        producer.close();
    }
}
