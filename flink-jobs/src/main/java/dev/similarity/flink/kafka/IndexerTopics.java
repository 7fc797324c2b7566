package dev.similarity.flink.kafka;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.IndexerOptions;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Creates the job's topics where they are missing, as deployment/kafka/topics.yaml declares them:
 * catalogue events partitioned by product id, compacted neighbour lists, dead letters, fetch retries.
 */
public final class IndexerTopics {

    private IndexerTopics() {}

    public static void ensureExist(IndexerConfig config, int partitions) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.get(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS));
        List<NewTopic> topics = List.of(
                new NewTopic(config.get(IndexerOptions.CATALOGUE_TOPIC), partitions, (short) 1)
                        .configs(Map.of("retention.ms", String.valueOf(TimeUnit.DAYS.toMillis(7)))),
                new NewTopic(config.get(IndexerOptions.NEIGHBOUR_TOPIC), partitions, (short) 1)
                        .configs(Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "60000",
                                "segment.ms", String.valueOf(TimeUnit.HOURS.toMillis(1)))),
                new NewTopic(config.get(IndexerOptions.DEAD_LETTER_TOPIC), 1, (short) 1)
                        .configs(Map.of("retention.ms", String.valueOf(TimeUnit.DAYS.toMillis(14)))),
                new NewTopic(config.get(IndexerOptions.FETCH_RETRY_TOPIC), partitions, (short) 1)
                        .configs(Map.of("retention.ms", String.valueOf(TimeUnit.DAYS.toMillis(7)))));
        try (Admin admin = Admin.create(props)) {
            for (NewTopic topic : topics) {
                try {
                    admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("could not create topic " + topic.name() + " on "
                                + config.get(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS) + ": " + e.getCause(), e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka at " + config.get(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS)
                    + " did not answer within 30 s while creating topics; is the broker running? (scripts/kafka-local start)", e);
        }
    }
}
