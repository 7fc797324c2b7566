package dev.similarity.flink.kafka;

import dev.similarity.flink.IndexerConfig;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The start-up check's rules; against a real broker in KafkaLimitsIT. */
class BrokerLimitsTest {

    private static final BrokerLimits.Limits DEFAULTS =
            new BrokerLimits.Limits("b:9092", 900_000L, 1_048_588L, "the brokers' message.max.bytes");

    @Test
    void theDefaultsFitTheBrokersDefaults() {
        assertThatCode(() -> BrokerLimits.check(IndexerConfig.from(Map.of()), DEFAULTS)).doesNotThrowAnyException();
        assertThatCode(() -> BrokerLimits.check(IndexerConfig.from(Map.of("kafka.transaction-timeout", "PT15M")), DEFAULTS))
                .as("equal to the maximum").doesNotThrowAnyException();
    }

    @Test
    void aTransactionTimeoutOverTheBrokersMaximumIsRefusedNamingBothAndTheFix() {
        assertThatThrownBy(() -> BrokerLimits.check(IndexerConfig.from(Map.of("kafka.transaction-timeout", "PT20M")), DEFAULTS))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("kafka.transaction-timeout = PT20M (1200000 ms) is over the brokers' transaction.max.timeout.ms = 900000 ms (PT15M) at b:9092")
                .hasMessageContaining("set kafka.transaction-timeout to at most PT15M")
                .hasMessageContaining("or raise transaction.max.timeout.ms on every broker");
    }

    @Test
    void aRequestSizeOverWhatTheBrokersStoreIsRefusedNamingTheSetting() {
        BrokerLimits.Limits topicSmaller = new BrokerLimits.Limits("b:9092", 900_000L, 500_000L, "max.message.bytes of topic dl");
        assertThatThrownBy(() -> BrokerLimits.check(IndexerConfig.from(Map.of()), topicSmaller))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("kafka.max-request-size = 1 mb (1048576 bytes) is over max.message.bytes of topic dl = 500000")
                .hasMessageContaining("set kafka.max-request-size to at most 500000 bytes");
    }

    @Test
    void brokersThatDoNotAnswerLeaveTheSettingsUncheckedRatherThanRefused() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        IndexerConfig config = IndexerConfig.from(Map.of("kafka.bootstrap-servers", "127.0.0.1:" + closedPort,
                "kafka.transaction-timeout", "PT20M"));
        long started = System.nanoTime();
        assertThat(BrokerLimits.describe(config, Duration.ofSeconds(2))).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    }
}
