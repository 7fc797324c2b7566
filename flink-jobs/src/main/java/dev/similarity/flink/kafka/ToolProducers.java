package dev.similarity.flink.kafka;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.util.Properties;

/** Producer settings of the command-line tools that write to the job's topics (re-drive, catalogue import). */
public final class ToolProducers {

    private ToolProducers() {}

    /**
     * Bytes in, bytes out; every record acknowledged by all in-sync replicas, and idempotent, so a retried
     * batch is neither written twice nor reordered within its partition.
     */
    public static Properties reliable(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }
}
