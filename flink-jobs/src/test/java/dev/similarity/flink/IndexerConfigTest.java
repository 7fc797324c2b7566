package dev.similarity.flink;

import org.apache.flink.configuration.IllegalConfigurationException;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class IndexerConfigTest {

    @Test
    void defaultsAreValid() {
        IndexerConfig config = IndexerConfig.from(Map.of());
        assertThat(config.get(IndexerOptions.NEIGHBOURS_K)).isEqualTo(10);
        assertThat(config.get(IndexerOptions.SHARDS)).isEqualTo(2);
    }

    @Test
    void aBadValueFailsNamingTheOption() {
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("neighbours.k", "0")))
                .isInstanceOf(IllegalConfigurationException.class).hasMessageContaining("neighbours.k = 0");
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("embedding.device", "tpu")))
                .hasMessageContaining("embedding.device = tpu must be one of cpu, gpu, auto");
    }

    @Test
    void anUnknownOptionIsRefusedSoTyposDoNotPassSilently() {
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("neighbors.k", "5")))
                .hasMessageContaining("unknown option 'neighbors.k'");
    }

    @Test
    void aValueThatDoesNotParseFailsAtStartUpNamingTheOption() {
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("kafka.delivery-guarantee", "AT_MOST_TWICE")))
                .isInstanceOf(IllegalConfigurationException.class).hasMessageContaining("kafka.delivery-guarantee = AT_MOST_TWICE");
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("kafka.delivery-guarantee", "none")))
                .hasMessageContaining("would lose list updates");
        assertThat(IndexerConfig.from(Map.of("kafka.delivery-guarantee", "at-least-once")).get(IndexerOptions.DELIVERY_GUARANTEE))
                .hasToString("at-least-once");
    }

    @Test
    void aRemovedFetchOptionNamesWhatReplacesIt() {
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("fetch.allow-private-addresses", "true")))
                .hasMessageContaining("was removed").hasMessageContaining("fetch.trusted-origins");
    }

    @Test
    void fetchOptionsThatContradictEachOtherAreRefused() {
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("fetch.read-timeout", "30 s")))
                .hasMessageContaining("must not exceed fetch.timeout");
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("fetch.trusted-origins", "http://10.0.0.5:8000/images")))
                .hasMessageContaining("fetch.trusted-origins").hasMessageContaining("is not an origin");
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("embedding.timeout", "10 s")))
                .hasMessageContaining("must exceed fetch.timeout");
        assertThat(IndexerConfig.from(Map.of("fetch.trusted-origins", "http://images.internal;https://cdn.internal:8443"))
                .fetchSettings().trustedOrigins()).containsExactlyInAnyOrder("http://images.internal:80", "https://cdn.internal:8443");
    }

    @Test
    void aTransactionTimeoutShorterThanThreeCheckpointsIsRefused() {
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("kafka.transaction-timeout", "2 s", "indexer.checkpoint-interval", "1 s")))
                .hasMessageContaining("kafka.transaction-timeout");
    }

    @Test
    void aRequestSizeWithoutRoomForADeadLetterOrOverTheProducersBufferIsRefused() {
        assertThat(IndexerConfig.from(Map.of()).get(IndexerOptions.KAFKA_MAX_REQUEST_SIZE).getBytes()).isEqualTo(1_048_576L);
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("kafka.max-request-size", "16kb")))
                .hasMessageContaining("kafka.max-request-size = 16 kb must be from 64 kb");
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("kafka.max-request-size", "64mb")))
                .hasMessageContaining("kafka.max-request-size = 64 mb must be from 64 kb");
        assertThat(IndexerConfig.from(Map.of("kafka.max-request-size", "32mb")).get(IndexerOptions.KAFKA_MAX_REQUEST_SIZE).getBytes())
                .isEqualTo(32L << 20);
    }

    @Test
    void describesEveryOptionForTheReadme() {
        String table = IndexerConfig.describeOptions();
        for (var option : IndexerConfig.allOptions()) {
            assertThat(table).contains("`" + option.key() + "`");
        }
    }
}
