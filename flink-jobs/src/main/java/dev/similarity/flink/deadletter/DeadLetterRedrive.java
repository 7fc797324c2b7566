package dev.similarity.flink.deadletter;

import dev.similarity.embedding.tools.Arguments;
import dev.similarity.flink.event.RetryState;
import dev.similarity.flink.kafka.FetchRetryHeaders;
import dev.similarity.flink.kafka.ToolProducers;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Feeds chosen dead letters back into the running job: each is copied, unchanged, to the fetch-retry
 * topic with a fresh retry state (due now, a new horizon). The job decodes it again from its original
 * bytes and the version gate lets it through unless the product has a newer event by then, so a
 * re-drive never overwrites newer catalogue data. Use it after fixing what failed: an image host that
 * was down past the retry horizon, a writer schema the job did not know.
 *
 * <p>{@code scripts/redrive-dead-letters --reason IMAGE_UNREACHABLE --since 2026-12-06T10:00:00Z}
 */
public final class DeadLetterRedrive {

    static final String USAGE = """
            usage: redrive-dead-letters [--bootstrap-servers H:P] [--dead-letters TOPIC] [--retries TOPIC]
                                        [--reason R1,R2] [--stage S1,S2] [--product ID1,ID2] [--since ISO-8601] [--dry-run]
              Copies the dead letters that match every given filter to the job's fetch-retry topic; prints counts by reason.""";

    /** What was re-driven (or would be, with --dry-run), by dead-letter reason. */
    public record Result(int scanned, Map<String, Integer> redrivenByReason) {
        public int redriven() {
            return redrivenByReason.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    /** Filters; an empty set or null matches everything. */
    public record Selection(Set<String> reasons, Set<String> stages, Set<String> products, Instant since) {
        boolean matches(DeadLetter letter) {
            return (reasons.isEmpty() || reasons.contains(letter.getReason().name()))
                    && (stages.isEmpty() || stages.contains(letter.getStage().toString()))
                    && (products.isEmpty() || (letter.getProductId() != null && products.contains(letter.getProductId().toString())))
                    && (since == null || letter.getFailedAt() >= since.toEpochMilli());
        }
    }

    private DeadLetterRedrive() {}

    public static void main(String[] args) {
        try {
            Arguments a = Arguments.parse(args, USAGE, List.of("--bootstrap-servers", "--dead-letters", "--retries",
                    "--reason", "--stage", "--product", "--since"), List.of("--dry-run"));
            Selection selection = new Selection(set(a.get("--reason", "")), set(a.get("--stage", "")), set(a.get("--product", "")),
                    a.has("--since") ? Instant.parse(a.require("--since")) : null);
            Result result = redrive(a.get("--bootstrap-servers", "127.0.0.1:9092"), a.get("--dead-letters", "catalogue-dead-letters"),
                    a.get("--retries", "catalogue-fetch-retries"), selection, a.has("--dry-run"));
            System.out.printf("%s %d of %d dead letters: %s%n", a.has("--dry-run") ? "would re-drive" : "re-drove",
                    result.redriven(), result.scanned(), result.redrivenByReason());
        } catch (Arguments.UsageException e) {
            System.err.println(e.getMessage());
            System.exit(2);
        }
    }

    /** Reads the dead-letter topic from its start to its current end (read_committed) and re-drives the selected letters. */
    public static Result redrive(String bootstrapServers, String deadLetterTopic, String retryTopic, Selection selection, boolean dryRun) {
        AvroRecordCodec<DeadLetter> codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        Map<String, Integer> byReason = new TreeMap<>();
        int scanned = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProperties(bootstrapServers));
             KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(ToolProducers.reliable(bootstrapServers))) {
            List<TopicPartition> partitions = consumer.partitionsFor(deadLetterTopic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long now = System.currentTimeMillis();
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    scanned++;
                    DeadLetter letter;
                    try {
                        letter = codec.decode(record.value());
                    } catch (Exception e) {
                        System.err.println("skipping " + record.topic() + "-" + record.partition() + "@" + record.offset()
                                + ": not a DeadLetter (" + e.getMessage() + ")");
                        continue;
                    }
                    if (!selection.matches(letter)) continue;
                    byReason.merge(letter.getReason().name(), 1, Integer::sum);
                    if (!dryRun) {
                        RecordHeaders headers = new RecordHeaders();
                        FetchRetryHeaders.write(RetryState.redrive(now), headers);
                        producer.send(new ProducerRecord<>(retryTopic, null, null, record.key(), record.value(), headers));
                    }
                }
            }
            producer.flush();
        }
        return new Result(scanned, byReason);
    }

    private static Set<String> set(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    }

    private static Properties consumerProperties(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }
}
