package dev.similarity.flink.kafka;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.IndexerOptions;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Checks the job's Kafka settings against what the brokers accept, before the job starts. A
 * transaction timeout over the brokers' {@code transaction.max.timeout.ms}, or a request size over
 * what the brokers store ({@code message.max.bytes}, a topic's {@code max.message.bytes}), passes
 * the job's own validation, then is refused by the brokers at every transaction or large record,
 * and the job restarts forever.
 */
public final class BrokerLimits {

    private static final Logger LOG = LoggerFactory.getLogger(BrokerLimits.class);
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private BrokerLimits() {}

    /**
     * What the brokers allow, the smallest value over every broker.
     *
     * @param transactionMaxTimeoutMs the brokers' {@code transaction.max.timeout.ms}; {@link Long#MAX_VALUE} if unknown
     * @param maxMessageBytes the smallest of the brokers' {@code message.max.bytes} and the existing output
     *     topics' {@code max.message.bytes}; {@link Long#MAX_VALUE} if unknown
     * @param maxMessageBytesSetting which setting {@code maxMessageBytes} is, for messages
     */
    record Limits(String brokers, long transactionMaxTimeoutMs, long maxMessageBytes, String maxMessageBytesSetting) {}

    /**
     * Refuses settings the brokers would refuse.
     *
     * @throws IllegalConfigurationException naming the option, the brokers' value and the fix
     */
    public static void verify(IndexerConfig config) {
        // Brokers that do not answer within TIMEOUT (or refuse to describe their configuration) get a
        // warning, not a refusal: Flink's restart strategy rides out a Kafka outage, and a job
        // (re)submitted while Kafka is briefly away, in a rolling restart or a deployment that starts
        // both at once, must not fail to deploy for it. A setting the brokers refuse then shows in the
        // job's exceptions (InvalidTxnTimeoutException, RecordTooLargeException) as it did before.
        describe(config, TIMEOUT).ifPresent(limits -> check(config, limits));
    }

    /** @throws IllegalConfigurationException if {@code config} asks for more than {@code limits} allow */
    static void check(IndexerConfig config, Limits limits) {
        Duration timeout = config.get(IndexerOptions.TRANSACTION_TIMEOUT);
        if (timeout.toMillis() > limits.transactionMaxTimeoutMs()) {
            Duration max = Duration.ofMillis(limits.transactionMaxTimeoutMs());
            throw new IllegalConfigurationException(IndexerOptions.TRANSACTION_TIMEOUT.key() + " = " + timeout + " ("
                    + timeout.toMillis() + " ms) is over the brokers' transaction.max.timeout.ms = "
                    + limits.transactionMaxTimeoutMs() + " ms (" + max + ") at " + limits.brokers()
                    + ": they would refuse every transaction of the job's exactly-once sinks and the job would restart"
                    + " forever. Fix: set " + IndexerOptions.TRANSACTION_TIMEOUT.key() + " to at most " + max
                    + " (it must still outlast a checkpoint plus a restart), or raise transaction.max.timeout.ms on every broker.");
        }
        long requestBytes = config.get(IndexerOptions.KAFKA_MAX_REQUEST_SIZE).getBytes();
        if (requestBytes > limits.maxMessageBytes()) {
            throw new IllegalConfigurationException(IndexerOptions.KAFKA_MAX_REQUEST_SIZE.key() + " = "
                    + config.get(IndexerOptions.KAFKA_MAX_REQUEST_SIZE) + " (" + requestBytes + " bytes) is over "
                    + limits.maxMessageBytesSetting() + " = " + limits.maxMessageBytes() + " at " + limits.brokers()
                    + ": the brokers would refuse the largest records the job writes (dead letters are cut to fit "
                    + IndexerOptions.KAFKA_MAX_REQUEST_SIZE.key() + ") and the job would restart forever. Fix: set "
                    + IndexerOptions.KAFKA_MAX_REQUEST_SIZE.key() + " to at most " + limits.maxMessageBytes()
                    + " bytes, or raise " + limits.maxMessageBytesSetting() + ".");
        }
    }

    /** The brokers' limits, or empty (with a warning) when they cannot be read within {@code timeout}. */
    static Optional<Limits> describe(IndexerConfig config, Duration timeout) {
        String brokers = config.get(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS);
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        Admin admin = null;
        try {
            admin = Admin.create(props);
            Collection<Node> nodes = admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<ConfigResource> brokerResources = new ArrayList<>();
            for (Node node : nodes) brokerResources.add(new ConfigResource(ConfigResource.Type.BROKER, node.idString()));
            List<ConfigResource> topicResources = List.of(
                    new ConfigResource(ConfigResource.Type.TOPIC, config.get(IndexerOptions.NEIGHBOUR_TOPIC)),
                    new ConfigResource(ConfigResource.Type.TOPIC, config.get(IndexerOptions.DEAD_LETTER_TOPIC)));
            List<ConfigResource> all = new ArrayList<>(brokerResources);
            all.addAll(topicResources);
            Map<ConfigResource, KafkaFuture<Config>> described = admin.describeConfigs(all).values();

            long transactionMax = Long.MAX_VALUE;
            long messageMax = Long.MAX_VALUE;
            String messageMaxSetting = null;
            for (ConfigResource broker : brokerResources) {
                Config brokerConfig = described.get(broker).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                transactionMax = Math.min(transactionMax, longValue(brokerConfig, "transaction.max.timeout.ms"));
                long brokerMessageMax = longValue(brokerConfig, "message.max.bytes");
                if (brokerMessageMax < messageMax) {
                    messageMax = brokerMessageMax;
                    messageMaxSetting = "the brokers' message.max.bytes";
                }
            }
            for (ConfigResource topic : topicResources) {
                Config topicConfig;
                try {
                    topicConfig = described.get(topic).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof UnknownTopicOrPartitionException) continue; // created later, with the brokers' default
                    throw e;
                }
                long topicMessageMax = longValue(topicConfig, "max.message.bytes");
                if (topicMessageMax < messageMax) {
                    messageMax = topicMessageMax;
                    messageMaxSetting = "max.message.bytes of topic " + topic.name();
                }
            }
            return Optional.of(new Limits(brokers, transactionMax, messageMax, messageMaxSetting));
        } catch (ExecutionException | TimeoutException | KafkaException e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            LOG.warn("could not read the limits of the Kafka brokers at {} within {} ({}); starting without checking {} and {}"
                            + " against them", brokers, timeout, cause.toString(), IndexerOptions.TRANSACTION_TIMEOUT.key(),
                    IndexerOptions.KAFKA_MAX_REQUEST_SIZE.key());
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the limits of the Kafka brokers at " + brokers, e);
        } finally {
            if (admin != null) admin.close(timeout);
        }
    }

    private static long longValue(Config config, String name) {
        ConfigEntry entry = config.get(name);
        if (entry == null || entry.value() == null) return Long.MAX_VALUE;
        try {
            return Long.parseLong(entry.value().trim());
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }
}
