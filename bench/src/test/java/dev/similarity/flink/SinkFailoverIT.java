package dev.similarity.flink;

import dev.similarity.kafka.local.LocalKafkaBroker;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A failover while the job's exactly-once Kafka sink has records in flight, as when a checkpoint expires
 * (a 10^6-product bootstrap here held a barrier past the checkpoint timeout): the sink aborts its open
 * transaction while closing, and the TaskManager must stay up so that the job restarts. With
 * flink-connector-kafka 4.0.1-2.0 on Flink 2.2, the writer counted the sends its own abort failed as
 * producer failures and threw them while closing, a fatal error that took the TaskManager down and left
 * the job restarting without slots (FLINK-38790, fixed in 5.0.0-2.2).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SinkFailoverIT {

    private static final String TOPIC = "sink-failover";
    /** The record whose first sight fails the job: by then the sink has sent records of an open transaction. */
    private static final long FAIL_AT = 200_000;
    private static final AtomicBoolean FAILED = new AtomicBoolean();
    private static final java.util.concurrent.atomic.AtomicLong SEEN = new java.util.concurrent.atomic.AtomicLong(-1);

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(1).build());

    @TempDir
    static Path work;

    private LocalKafkaBroker broker;

    @BeforeAll
    void start() throws Exception {
        broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build().start();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    void stop() {
        if (broker != null) broker.close();
    }

    @Test
    void aFailoverWithRecordsInFlightLeavesTheTaskManagerUpAndTheJobRestarts(@InjectMiniCluster MiniCluster cluster)
            throws Exception {
        IndexerConfig config = IndexerConfig.from(Map.of(
                IndexerOptions.KAFKA_BOOTSTRAP_SERVERS.key(), broker.bootstrapServers(),
                IndexerOptions.TRANSACTIONAL_ID_PREFIX.key(), "sink-failover-" + System.nanoTime()));
        Configuration flink = new Configuration();
        flink.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(500));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        env.setParallelism(1);
        env.enableCheckpointing(1_000);
        KafkaRecordSerializationSchema<Long> serializer = (value, context, timestamp) ->
                new ProducerRecord<>(TOPIC, ByteBuffer.allocate(8).putLong(value).array());
        env.fromSequence(0, 1_000_000_000L)
                .map(new FailOnce()).name("fail-once")
                .sinkTo(SimilarityIndexerJob.kafkaSink(config, serializer, "failover")).name("exactly-once-sink");
        JobClient job = env.executeAsync("sink failover");
        try {
            long deadline = System.currentTimeMillis() + 120_000;
            while (!FAILED.get() && System.currentTimeMillis() < deadline) Thread.sleep(100);
            assertThat(FAILED).as(() -> "the job reached the record that fails it; job " + statusOf(job) + ", last record " + SEEN.get()).isTrue();

            // Progress after the failover: records beyond the failure point committed by the restarted job.
            long committedBeyond = awaitCommittedBeyond(FAIL_AT + 50_000, 90_000);
            assertThat(committedBeyond).as("records committed after the restart (none: the job did not come back)")
                    .isGreaterThan(FAIL_AT + 50_000);
            assertThat(job.getJobStatus().get(10, TimeUnit.SECONDS)).isEqualTo(JobStatus.RUNNING);
            assertThat(cluster.isRunning()).isTrue();
        } finally {
            job.cancel().get(60, TimeUnit.SECONDS);
        }
    }

    private static String statusOf(JobClient job) {
        try {
            JobStatus status = job.getJobStatus().get(10, TimeUnit.SECONDS);
            if (status.isGloballyTerminalState()) {
                try {
                    job.getJobExecutionResult().get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    return status + ": " + org.apache.flink.util.ExceptionUtils.stringifyException(e);
                }
            }
            return status.toString();
        } catch (Exception e) {
            return "status unknown: " + e;
        }
    }

    /** Fails the job once, at {@link #FAIL_AT}; paced so the sink always has a few batches in flight. */
    private static final class FailOnce implements MapFunction<Long, Long> {
        @Override
        public Long map(Long value) throws Exception {
            SEEN.set(value);
            if (value % 50 == 0) Thread.sleep(1);
            if (value == FAIL_AT && FAILED.compareAndSet(false, true)) {
                throw new IllegalStateException("failover injected at record " + value);
            }
            return value;
        }
    }

    /** The highest record value read_committed consumers see, once it is above {@code target} or at the deadline. */
    private long awaitCommittedBeyond(long target, long timeoutMs) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.GROUP_ID_CONFIG, "sink-failover-reader");
        long highest = -1;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(TOPIC));
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (highest <= target && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    highest = Math.max(highest, ByteBuffer.wrap(record.value()).getLong());
                }
            }
        }
        return highest;
    }
}
