package dev.similarity.flink.catalogue;

import dev.similarity.embedding.tools.Arguments;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.flink.event.CatalogueWriterSchemas;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventValidator;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import dev.similarity.schemas.wire.InvalidRecordException;
import org.apache.avro.Schema;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

/**
 * Loads a catalogue export (Avro object container files of {@link CatalogueEvent}s, as Divolte Collector
 * and batch exports write them) into the job's catalogue topic, keyed by product id, in the job's wire
 * format. The job then indexes it as any backlog: in its bulk phase (README, "Starting on an existing
 * catalogue"), and the events that follow on the topic through the normal path.
 *
 * <p>Nothing is dropped here: an event the job will refuse (a rule of {@link CatalogueEventValidator}
 * broken) is published all the same, counted and named, and becomes a dead letter with its reason in the
 * job. A file whose schema cannot be read as the job's is refused before any of its records is sent; a
 * damaged file stops the import at the damage, after what was read before it is sent. Running an import
 * again is safe: the job keeps one event per product and {@code catalogueVersion} (equal versions are the
 * same change), so re-sent events change nothing.
 *
 * <p>{@code scripts/import-catalogue --file export/ --kafka.bootstrap-servers 127.0.0.1:9092}
 */
public final class CatalogueFileImport {

    static final String USAGE = """
            usage: import-catalogue --file PATH [--file PATH ...] [--kafka.bootstrap-servers H:P]
                                    [--kafka.topic.catalogue-events TOPIC] [--catalogue.wire-format NAKED_BINARY|SINGLE_OBJECT]
                                    [--catalogue.writer-schema FILE.avsc] [--dry-run]
              Sends every catalogue event in the Avro container files (a folder: its *.avro files, by name) to the job's
              catalogue topic, keyed by product id, encoded as the job with these options reads it; prints counts.
              --dry-run: reads and checks the files, sends nothing.""";

    /** Examples of refused events kept per rule. */
    private static final int EXAMPLES = 3;

    /**
     * What an import read and sent.
     *
     * @param refusedByProblem events the job will send to the dead letters, by their first problem
     *                         (published all the same); {@code examples} names a few product ids of each
     */
    public record Result(long read, long sent, Map<String, Long> byKind, Map<String, Long> refusedByProblem,
                         Map<String, List<String>> examples, double seconds) {
        public long refused() {
            return refusedByProblem.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private CatalogueFileImport() {}

    public static void main(String[] args) {
        Arguments a;
        try {
            a = Arguments.parse(args, USAGE, List.of("--file", "--kafka.bootstrap-servers", "--kafka.topic.catalogue-events",
                    "--catalogue.wire-format", "--catalogue.writer-schema"), List.of("--dry-run"));
            if (!a.has("--file")) throw new Arguments.UsageException("--file is required\n" + USAGE);
        } catch (Arguments.UsageException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        Configuration options = new Configuration();
        for (String key : List.of("kafka.bootstrap-servers", "kafka.topic.catalogue-events", "catalogue.wire-format",
                "catalogue.writer-schema")) {
            if (a.has("--" + key)) options.setString(key, a.require("--" + key));
        }
        List<Path> files = new ArrayList<>();
        try {
            for (String file : a.getAll("--file")) files.addAll(containerFiles(Path.of(file)));
            Result result = run(files, options, a.has("--dry-run"));
            System.out.printf("%s %,d of %,d events from %d file(s) to %s in %.1f s (%,.0f events/s); by kind %s%n",
                    a.has("--dry-run") ? "would send" : "sent", result.sent(), result.read(), files.size(),
                    options.get(IndexerOptions.CATALOGUE_TOPIC), result.seconds(), result.read() / Math.max(result.seconds(), 1e-3),
                    result.byKind());
            if (result.refused() > 0) {
                System.out.printf("%,d of them the job will send to the dead letters:%n", result.refused());
                result.refusedByProblem().entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(10)
                        .forEach(e -> System.out.printf("  %,d: %s (e.g. %s)%n", e.getValue(), e.getKey(),
                                String.join(", ", result.examples().get(e.getKey()))));
            }
        } catch (CatalogueFile.CatalogueFileException | IllegalConfigurationException | UncheckedIOException | IllegalStateException e) {
            System.err.println("import-catalogue: " + e.getMessage());
            System.exit(1);
        }
    }

    /**
     * Reads {@code files} in order and sends their events to the catalogue topic {@code options} name
     * (nothing with {@code dryRun}), waiting until every one sent is acknowledged.
     *
     * @throws CatalogueFile.CatalogueFileException  if a file cannot be read as the job's events (the events of
     *                                               earlier files, and of this one before the damage, were sent)
     * @throws IllegalConfigurationException         if the wire-format options are inconsistent or the writer
     *                                               schema file cannot be read ({@link CatalogueWriterSchemas#codec})
     * @throws IllegalStateException                 if the topic does not exist or the broker does not answer (before
     *                                               anything is read), or Kafka refused a send (the message says how
     *                                               many were acknowledged)
     */
    public static Result run(List<Path> files, Configuration options, boolean dryRun) {
        AvroRecordCodec<CatalogueEvent> jobCodec = CatalogueWriterSchemas.codec(options);
        AvroWireFormat format = jobCodec.format();
        Schema target = format == AvroWireFormat.NAKED_BINARY ? jobCodec.writerSchemas().get(0) : jobCodec.readerSchema();
        String topic = options.get(IndexerOptions.CATALOGUE_TOPIC);
        long started = System.nanoTime();
        Counts counts = new Counts();
        AtomicReference<Exception> failure = new AtomicReference<>();
        AtomicLong acknowledged = new AtomicLong();
        String servers = options.get(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS);
        if (!dryRun) requireTopic(servers, topic);
        try (KafkaProducer<byte[], byte[]> producer = dryRun ? null : new KafkaProducer<>(producerProperties(servers))) {
            BiConsumer<String, byte[]> send = dryRun ? (key, value) -> { } : (key, value) -> producer.send(
                    new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value), (metadata, error) -> {
                        if (error == null) acknowledged.incrementAndGet();
                        else failure.compareAndSet(null, error);
                    });
            try {
                for (Path path : files) {
                    try (CatalogueFile file = CatalogueFile.open(path, target, format)) {
                        while (file.hasNext() && failure.get() == null) {
                            CatalogueFile.Record record = file.next();
                            counts.check(decode(jobCodec, record, path, file.recordsRead()), record.productId());
                            send.accept(record.productId(), record.value());
                            counts.sent++;
                        }
                    }
                }
            } finally {
                if (producer != null) producer.flush();
            }
        }
        if (failure.get() != null) {
            throw new IllegalStateException("sending to " + topic + " failed after " + acknowledged.get() + " acknowledged events: "
                    + failure.get(), failure.get());
        }
        return new Result(counts.read, counts.sent, counts.byKind, counts.refused, counts.examples,
                (System.nanoTime() - started) / 1e9);
    }

    /**
     * Fails before anything is read when the topic is missing: its partition count is the deployment's
     * choice (deployment/kafka/topics.yaml), not this tool's, and a producer would only time out.
     */
    private static void requireTopic(String servers, String topic) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        try (Admin admin = Admin.create(props)) {
            admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalStateException("topic " + topic + " does not exist on " + servers + ": create the job's topics"
                        + " first (deployment/kafka/topics.yaml declares them); nothing was sent");
            }
            throw new IllegalStateException("cannot describe topic " + topic + " on " + servers + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka at " + servers + " did not answer within 30 s; is the broker running?"
                    + " (scripts/kafka-local start); nothing was sent", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Decodes what will be sent as the job will: a record the job cannot read would be a bug here, not bad input. */
    private static CatalogueEvent decode(AvroRecordCodec<CatalogueEvent> jobCodec, CatalogueFile.Record record, Path path, long number) {
        try {
            return jobCodec.decode(record.value());
        } catch (InvalidRecordException e) {
            throw new IllegalStateException(path + ": record " + number + " re-encoded for the job cannot be decoded by it: "
                    + e.getMessage(), e);
        }
    }

    /** The file itself, or a folder's {@code *.avro} files in name order. */
    static List<Path> containerFiles(Path path) {
        if (!Files.isDirectory(path)) {
            if (!Files.isRegularFile(path)) throw new UncheckedIOException(path + ": no such file", new NoSuchFileException(path.toString()));
            return List.of(path);
        }
        try (Stream<Path> listed = Files.list(path)) {
            List<Path> files = listed.filter(p -> p.getFileName().toString().endsWith(".avro") && Files.isRegularFile(p)).sorted().toList();
            if (files.isEmpty()) throw new UncheckedIOException(path + ": no *.avro file in this folder", new NoSuchFileException(path.toString()));
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot list: " + e.getMessage(), e);
        }
    }

    private static final class Counts {
        long read;
        long sent;
        final Map<String, Long> byKind = new TreeMap<>();
        final Map<String, Long> refused = new TreeMap<>();
        final Map<String, List<String>> examples = new TreeMap<>();

        void check(CatalogueEvent event, String productId) {
            read++;
            byKind.merge(event.getKind().name(), 1L, Long::sum);
            List<String> problems = CatalogueEventValidator.problems(event);
            if (problems.isEmpty()) return;
            String problem = problems.get(0);
            refused.merge(problem, 1L, Long::sum);
            List<String> some = examples.computeIfAbsent(problem, p -> new ArrayList<>());
            if (some.size() < EXAMPLES) some.add(productId.isEmpty() ? "(no product id)" : productId);
        }
    }

    private static Properties producerProperties(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true"); // a retried batch is not written twice, nor reordered
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }
}
