package dev.similarity.flink.demo;

import dev.similarity.flink.kafka.NeighbourListSerializer;
import dev.similarity.kafka.local.LocalKafkaBroker;
import dev.similarity.schemas.Neighbour;
import dev.similarity.schemas.NeighbourList;
import dev.similarity.schemas.wire.AvroRecordCodec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The collector against a real broker: a list record committed twice is reported as a repeated update,
 * also when only the newest list of each key keeps its neighbours, and dropping them keeps what the
 * freshness and latency figures read (versions, event times, visibility times).
 */
class NeighbourListCollectorIT {

    @TempDir
    static Path work;

    private static LocalKafkaBroker broker;
    private static final AvroRecordCodec<NeighbourList> CODEC = AvroRecordCodec.of(NeighbourList.class, NeighbourListSerializer.WIRE_FORMAT);

    @BeforeAll
    static void start() {
        broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build().start();
    }

    @AfterAll
    static void stop() {
        if (broker != null) broker.close();
    }

    private static NeighbourList list(String product, long version, long eventTimestamp, long computedTimestamp, String... neighbours) {
        List<Neighbour> listed = new java.util.ArrayList<>();
        for (String n : neighbours) listed.add(new Neighbour(n, 0.5f, listed.size() + 1));
        return NeighbourList.newBuilder().setProductId(product).setNeighbours(listed).setModelId("m")
                .setEventTimestamp(eventTimestamp).setComputedTimestamp(computedTimestamp).setCatalogueVersion(version).build();
    }

    /** Publishes: p1 v1, p1 v2, p1 v1 again (a replay, computed later so its bytes differ), p2 v1, p2's tombstone twice. */
    private static void publish(String topic) throws Exception {
        broker.kafkaTopics("--create", "--topic", topic, "--partitions", "2", "--replication-factor", "1");
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            send(producer, topic, "p1", CODEC.encode(list("p1", 1, 100, 110, "p2", "p3")));
            send(producer, topic, "p1", CODEC.encode(list("p1", 2, 200, 210, "p3", "p2")));
            send(producer, topic, "p1", CODEC.encode(list("p1", 1, 100, 999, "p2", "p3")));
            send(producer, topic, "p2", CODEC.encode(list("p2", 1, 300, 310, "p1")));
            send(producer, topic, "p2", null);
            send(producer, topic, "p2", null);
        }
    }

    private static void send(KafkaProducer<byte[], byte[]> producer, String topic, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value)).get();
    }

    private static void awaitRecords(NeighbourListCollector lists, long n) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (lists.records() < n && System.currentTimeMillis() < deadline) Thread.sleep(50);
        assertThat(lists.records()).as("records read").isEqualTo(n);
    }

    @Test
    void aReplayedUpdateIsReportedOnceAndTombstonesAreNot() throws Exception {
        publish("full");
        try (NeighbourListCollector lists = new NeighbourListCollector(broker.bootstrapServers(), "full", true)) {
            awaitRecords(lists, 6);
            assertThat(lists.repeatedUpdates()).containsExactly("p1|1|100|m|p2:0.5|p3:0.5");
            assertThat(lists.history("p1").get(0).list().getNeighbours()).hasSize(2);
        }
    }

    @Test
    void keepingOnlyTheNewestNeighboursStillFindsTheReplayAndKeepsVersionsAndTimes() throws Exception {
        publish("newest-only");
        try (NeighbourListCollector lists = new NeighbourListCollector(broker.bootstrapServers(), "newest-only", true)) {
            lists.keepNeighboursOfNewestOnly();
            awaitRecords(lists, 6);
            assertThat(lists.repeatedUpdates()).containsExactly("p1|1|100|m|p2:0.5|p3:0.5");
            List<NeighbourListCollector.Seen> p1 = lists.history("p1");
            assertThat(p1).extracting(s -> s.list().getCatalogueVersion()).containsExactly(1L, 2L, 1L);
            assertThat(p1).extracting(s -> s.list().getEventTimestamp()).containsExactly(100L, 200L, 100L);
            assertThat(p1).extracting(s -> s.list().getNeighbours().size()).containsExactly(0, 0, 2);
            assertThat(p1).allMatch(s -> s.visibleAt() > 0);
            assertThat(lists.latest("p2").list()).as("p2's newest record: its tombstone").isNull();
        }
    }
}
