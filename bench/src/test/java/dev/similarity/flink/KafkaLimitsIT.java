package dev.similarity.flink;

import dev.similarity.flink.demo.DemoCatalogue;
import dev.similarity.flink.demo.DemoImageServer;
import dev.similarity.flink.demo.DemoRun;
import dev.similarity.flink.demo.RunSummary;
import dev.similarity.kafka.local.LocalKafkaBroker;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventKind;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.DeadLetterHeaders;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * The job against the limits of real brokers: bad records at and over the producers' request limit
 * become dead letters that fit while the job keeps going, and settings the brokers would refuse
 * (a transaction timeout over transaction.max.timeout.ms, a request size over message.max.bytes)
 * are refused at start-up instead of restarting the job forever.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KafkaLimitsIT {

    private static final int MIB = 1 << 20;
    private static final int PRODUCTS = 30;

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path work;

    private LocalKafkaBroker broker;
    private DemoCatalogue catalogue;
    private DemoImageServer images;

    /** A bad record as sent: where it landed and what its dead letter must say. */
    private record Sent(String label, byte[] key, byte[] value, String reason, int partition, long offset) {}

    @BeforeAll
    void start() throws Exception {
        broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build().start();
        catalogue = new DemoCatalogue();
        images = new DemoImageServer(catalogue, 0);
    }

    @AfterAll
    void stop() {
        if (images != null) images.close();
        if (broker != null) broker.close();
    }

    @Test
    void badRecordsAtAndOverTheRequestLimitBecomeDeadLettersThatFitWhileTheJobKeepsGoing() throws Exception {
        String name = "oversize";
        // The catalogue topic takes records up to 8 MiB, far more than the job's 1 MiB requests.
        createTopic(name + "-catalogue-events", 4, Map.of("max.message.bytes", String.valueOf(8 * MIB)));
        try (DemoRun run = new DemoRun(catalogue, images, broker.bootstrapServers(), work.resolve(name), name,
                withoutRestarts(), Map.of())) {
            RunSummary before = run.feedAndMeasure(0, PRODUCTS, 0, 300_000, false);
            assertThat(before.get("products_with_list")).as("lists before the bad records").isEqualTo(PRODUCTS);

            List<Sent> sent = sendBadRecords(run.config().get(IndexerOptions.CATALOGUE_TOPIC));
            long sentAt = System.currentTimeMillis();
            RunSummary after = run.feedAndMeasure(PRODUCTS, PRODUCTS, 0, 180_000, false);
            System.out.printf("lists of the %d products fed after the bad records visible within %.1f s%n",
                    PRODUCTS, (System.currentTimeMillis() - sentAt) / 1000.0);
            // Restarts are off: one failure would have ended the job.
            assertThat(run.job().getJobStatus().get(10, TimeUnit.SECONDS)).as(() -> "the job ended: " + failureOf(run.job()))
                    .isEqualTo(JobStatus.RUNNING);
            assertThat(after.get("products_with_list")).as("lists after the bad records").isEqualTo(PRODUCTS);

            List<ConsumerRecord<byte[], byte[]>> letters = readCommitted(run.config().get(IndexerOptions.DEAD_LETTER_TOPIC),
                    sent.size(), 120_000);
            assertThat(letters).as("one dead letter per bad record").hasSize(sent.size());
            AvroRecordCodec<DeadLetter> codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
            for (Sent bad : sent) {
                ConsumerRecord<byte[], byte[]> letter = letters.stream()
                        .filter(r -> matches(codec, r, bad)).findFirst().orElseThrow(
                                () -> new AssertionError("no dead letter for " + bad.label()));
                assertDeadLetterFitsAndIdentifiesTheWholeOriginal(codec, letter, bad);
            }
        }
    }

    @Test
    void aTransactionTimeoutOverTheBrokersMaximumIsRefusedWhenTheJobStarts() {
        IndexerConfig config = IndexerConfig.from(Map.of(
                IndexerOptions.KAFKA_BOOTSTRAP_SERVERS.key(), broker.bootstrapServers(),
                IndexerOptions.TRANSACTION_TIMEOUT.key(), "PT20M",
                IndexerOptions.CHECKPOINT_DIR.key(), work.resolve("refused-checkpoints").toUri().toString(),
                IndexerOptions.SNAPSHOT_DIR.key(), work.resolve("refused-snapshots").toUri().toString()));
        Throwable refused = catchThrowable(() -> {
            JobClient started = SimilarityIndexerJob.start(
                    StreamExecutionEnvironment.getExecutionEnvironment(SimilarityIndexerJob.runtimeConfiguration(config)), config);
            started.cancel().get(30, TimeUnit.SECONDS);
        });
        assertThat(refused).as("the job must not start").isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("kafka.transaction-timeout = PT20M (1200000 ms)")
                .hasMessageContaining("transaction.max.timeout.ms = 900000 ms")
                .hasMessageContaining("set kafka.transaction-timeout to at most PT15M");
    }

    @Test
    void theClusterEntryPointRefusesATransactionTimeoutOverTheBrokersMaximumToo() {
        String[] args = {"--kafka.bootstrap-servers", broker.bootstrapServers(), "--kafka.transaction-timeout", "PT20M",
                "--indexer.checkpoint-dir", work.resolve("refused-main-checkpoints").toUri().toString()};
        // Before the check, main() ran the job, which restarted forever: hence the time limit.
        assertTimeoutPreemptively(Duration.ofSeconds(90), () ->
                assertThatThrownBy(() -> SimilarityIndexerJob.main(args))
                        .isInstanceOf(IllegalConfigurationException.class)
                        .hasMessageContaining("transaction.max.timeout.ms = 900000 ms"));
    }

    @Test
    void aRequestSizeOverWhatTheBrokersAcceptIsRefusedWhenTheJobStarts() {
        IndexerConfig config = IndexerConfig.from(Map.of(
                IndexerOptions.KAFKA_BOOTSTRAP_SERVERS.key(), broker.bootstrapServers(),
                "kafka.max-request-size", "2mb"));
        assertThatThrownBy(() -> SimilarityIndexerJob.start(
                StreamExecutionEnvironment.getExecutionEnvironment(SimilarityIndexerJob.runtimeConfiguration(config)), config))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("kafka.max-request-size = 2 mb (2097152 bytes)")
                .hasMessageContaining("message.max.bytes = 1048588");
    }

    private void assertDeadLetterFitsAndIdentifiesTheWholeOriginal(AvroRecordCodec<DeadLetter> codec,
            ConsumerRecord<byte[], byte[]> letter, Sent bad) throws Exception {
        Header[] headers = letter.headers().toArray();
        int size = AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
                letter.key(), letter.value(), headers);
        System.out.printf("%s: original key %,d + value %,d bytes -> dead letter of %,d bytes%n",
                bad.label(), bad.key().length, bad.value().length, size);
        assertThat(size).as("%s: the dead letter fits max.request.size", bad.label()).isLessThanOrEqualTo(MIB);

        DeadLetter deadLetter = codec.decode(letter.value());
        assertThat(deadLetter.getReason().name()).as(bad.label()).isEqualTo(bad.reason());
        assertThat(deadLetter.getOriginalValueBytes()).as(bad.label()).isEqualTo(bad.value().length);
        assertThat(deadLetter.getOriginalKeyBytes()).as(bad.label()).isEqualTo(bad.key().length);
        assertThat(deadLetter.getOriginalValueSha256()).as(bad.label()).isEqualTo(sha256(bad.value()));
        assertThat(deadLetter.getOriginalKeySha256()).as(bad.label()).isEqualTo(sha256(bad.key()));
        assertThat(header(letter, DeadLetterHeaders.ORIGINAL_VALUE_SHA256)).as(bad.label()).isEqualTo(sha256(bad.value()));
        byte[] keptValue = bytes(deadLetter.getOriginalValue());
        byte[] keptKey = bytes(deadLetter.getOriginalKey());
        assertThat(keptValue).as("%s: the kept value is a prefix of the original", bad.label())
                .isEqualTo(Arrays.copyOf(bad.value(), keptValue.length));
        assertThat(keptKey).as("%s: the kept key is a prefix of the original", bad.label())
                .isEqualTo(Arrays.copyOf(bad.key(), keptKey.length));
        // Every bad record but these two is too big to copy whole (key, value or the message quoting it).
        boolean small = bad.label().equals("tiny") || bad.label().equals("huge-unreachable-url");
        assertThat(deadLetter.getTruncated()).as("%s: truncated", bad.label()).isEqualTo(!small);
        assertThat(header(letter, DeadLetterHeaders.TRUNCATED)).as(bad.label()).isEqualTo(String.valueOf(!small));
        if (small) {
            assertThat(keptValue).as("a small bad record is copied whole").isEqualTo(bad.value());
            assertThat(keptKey).as("a small bad record is copied whole").isEqualTo(bad.key());
        }
    }

    private List<Sent> sendBadRecords(String topic) throws Exception {
        Random random = new Random(10);
        List<Sent> sent = new ArrayList<>();
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(8 * MIB));
        AvroRecordCodec<CatalogueEvent> events = AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props)) {
            List<Object[]> records = List.of(
                    new Object[] {"tiny", utf8("tiny"), utf8("this is not an Avro catalogue event"), "MALFORMED_RECORD"},
                    // The record: just under 1 MiB, so its dead letter's copy plus headers went over.
                    new Object[] {"just-under-1MiB", utf8("just-under"), garbage(random, MIB - 100), "MALFORMED_RECORD"},
                    new Object[] {"at-1MiB", utf8("at-limit"), garbage(random, MIB), "MALFORMED_RECORD"},
                    new Object[] {"3MiB", utf8("over-limit"), garbage(random, 3 * MIB), "MALFORMED_RECORD"},
                    new Object[] {"600KiB-key", utf8("k".repeat(600 * 1024)), garbage(random, 500 * 1024), "MALFORMED_RECORD"},
                    // A decodable event whose refusal message quotes its 700 KB URL and 200 KB product id.
                    new Object[] {"huge-invalid-event", utf8("huge-invalid-event"), events.encode(event(
                            "p".repeat(200_000), "ftp://images.example.com/" + "x".repeat(700_000))), "INVALID_EVENT"},
                    // A valid event with a 900 KB image URL: refused before any connection (over fetch.max-url-length,
                    // the message quotes 80 characters of it), so its dead letter copies the whole original.
                    new Object[] {"huge-unreachable-url", utf8("huge-url"), events.encode(event(
                            "huge-url", "http://127.0.0.1:1/" + "u".repeat(900_000))), "IMAGE_URL_REFUSED"});
            for (Object[] r : records) {
                byte[] key = (byte[]) r[1];
                byte[] value = (byte[]) r[2];
                RecordMetadata metadata = producer.send(new ProducerRecord<>(topic, key, value)).get(60, TimeUnit.SECONDS);
                sent.add(new Sent((String) r[0], key, value, (String) r[3], metadata.partition(), metadata.offset()));
            }
        }
        return sent;
    }

    private static CatalogueEvent event(String productId, String imageUrl) {
        long now = System.currentTimeMillis();
        return CatalogueEvent.newBuilder()
                .setEventId(UUID.randomUUID().toString()).setTimestamp(now).setClientTimestamp(now)
                .setRemoteHost("127.0.0.1").setProductId(productId).setKind(CatalogueEventKind.UPSERTED)
                .setCatalogueVersion(1).setImageUrl(imageUrl).setTitle("Bag").setCategoryPath(List.of("Bag"))
                .build();
    }

    private static boolean matches(AvroRecordCodec<DeadLetter> codec, ConsumerRecord<byte[], byte[]> record, Sent bad) {
        try {
            DeadLetter letter = codec.decode(record.value());
            return letter.getSourcePartition() != null && letter.getSourcePartition() == bad.partition()
                    && letter.getSourceOffset() != null && letter.getSourceOffset() == bad.offset();
        } catch (Exception e) {
            throw new AssertionError("an unreadable dead letter: " + e, e);
        }
    }

    private List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic, int count, long timeoutMs) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.currentTimeMillis() + timeoutMs;
            while (records.size() < count && System.currentTimeMillis() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        return records;
    }

    private void createTopic(String topic, int partitions, Map<String, String> configs) throws Exception {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1).configs(configs))).all().get(60, TimeUnit.SECONDS);
        }
    }

    /** The mini-cluster's environment with the job's runtime configuration and restarts off: any failure ends the job. */
    private static Function<Configuration, StreamExecutionEnvironment> withoutRestarts() {
        return flink -> {
            flink.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
            return StreamExecutionEnvironment.getExecutionEnvironment(flink);
        };
    }

    private static String failureOf(JobClient job) {
        try {
            job.getJobExecutionResult().get(10, TimeUnit.SECONDS);
            return "no failure";
        } catch (Exception e) {
            return ExceptionUtils.stringifyException(e);
        }
    }

    private static String header(ConsumerRecord<byte[], byte[]> record, String key) {
        Header header = record.headers().lastHeader(key);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static byte[] garbage(Random random, int size) {
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        return bytes;
    }

    private static byte[] bytes(java.nio.ByteBuffer buffer) {
        if (buffer == null) return new byte[0];
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
