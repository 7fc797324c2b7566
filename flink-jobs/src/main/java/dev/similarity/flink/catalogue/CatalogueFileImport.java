package dev.similarity.flink.catalogue;

import dev.similarity.embedding.tools.Arguments;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.flink.event.CatalogueWriterSchemas;
import dev.similarity.flink.kafka.ToolProducers;
import dev.similarity.index.snapshot.StoreFileSystems;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventValidator;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import dev.similarity.schemas.wire.InvalidRecordException;
import org.apache.avro.Schema;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.fs.UnsupportedFileSystemSchemeException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.io.FileNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Loads a catalogue export (Avro object container files of {@link CatalogueEvent}s, as Divolte Collector and
 * batch exports write them, on the local file system or any Flink file system: {@code s3://} with Flink's S3
 * plugin, {@code hdfs://}) into the job's catalogue topic, keyed by
 * product id, in the job's wire format. The job then indexes it as any backlog: in its bulk phase (README,
 * "Starting on an existing catalogue"), and the events that follow on the topic through the normal path.
 *
 * <p>Nothing is dropped here: an event the job will refuse (a rule of {@link CatalogueEventValidator}
 * broken) is sent all the same, counted and named, and becomes a dead letter with its reason in the job.
 * Every file's header and schema are checked before anything is sent, so a file the job cannot read
 * stops the import with nothing sent; a damaged or truncated file, or a send Kafka refuses, stops it there,
 * saying how many events were acknowledged. Running an import again is then safe: the job keeps one event
 * per product and {@code catalogueVersion} (equal versions are the same change), so re-sent events
 * re-index and re-publish nothing; only the events it refuses become dead letters again. Run it from the
 * job's own build: it encodes with the {@link CatalogueEvent} schema it was built with.
 *
 * <p>{@code scripts/import-catalogue --file export/ --kafka.bootstrap-servers 127.0.0.1:9092}
 */
public final class CatalogueFileImport {

    static final String USAGE = """
            usage: import-catalogue --file PATH [--file PATH ...] [--kafka.bootstrap-servers H:P]
                                    [--kafka.topic.catalogue-events TOPIC] [--catalogue.wire-format NAKED_BINARY|SINGLE_OBJECT]
                                    [--catalogue.writer-schema FILE.avsc] [--dry-run]
                                    [--plugins-dir DIR] [--s3-endpoint URL] [--s3-path-style-access true|false]
                                    [--s3-access-key KEY] [--s3-secret-key KEY]
              Sends every catalogue event in the Avro container files to the job's catalogue topic, keyed by product id,
              encoded as the job with these options reads it; prints progress every 10 s and counts at the end.
              --file           a local path, or a Flink file system URI (s3://bucket/exports/, hdfs://...); a folder:
                               its *.avro files, by name
              --dry-run        reads and checks the files, sends nothing
              --plugins-dir    Flink's plugins folder, with s3-fs-presto/ for s3:// files (default: $FLINK_PLUGINS_DIR)
              --s3-endpoint    an S3-compatible server instead of AWS (Flink's s3.endpoint); path-style access unless
                               --s3-path-style-access false
              --s3-access-key, --s3-secret-key  credentials; the secret also from the environment variable
                               S3_SECRET_KEY. Without them the S3 client's default credentials apply""";

    /** Examples of refused events kept per problem, and distinct problems kept (the rest are counted as one). */
    private static final int EXAMPLES = 3;
    private static final int PROBLEMS = 100;
    static final String OTHER_PROBLEMS = "(other problems)";
    private static final long PROGRESS_NANOS = TimeUnit.SECONDS.toNanos(10);

    /**
     * What an import read and sent.
     *
     * @param sent             events handed to Kafka and acknowledged (with a dry run: that would be)
     * @param refusedByProblem events the job will send to the dead letters, by their first problem with its
     *                         values left out (sent all the same); {@code examples} names a few product ids of each
     */
    public record Result(long read, long sent, Map<String, Long> byKind, Map<String, Long> refusedByProblem,
                         Map<String, List<String>> examples, double seconds) {
        public long refused() {
            return refusedByProblem.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** An import that stopped: the message says why and how many events Kafka acknowledged before. */
    public static final class ImportStoppedException extends RuntimeException {
        private final long acknowledged;

        ImportStoppedException(String message, Throwable cause, long acknowledged) {
            super(message, cause);
            this.acknowledged = acknowledged;
        }

        public long acknowledged() {
            return acknowledged;
        }
    }

    private CatalogueFileImport() {}

    public static void main(String[] args) {
        Arguments a;
        try {
            a = Arguments.parse(args, USAGE, List.of("--file", "--kafka.bootstrap-servers", "--kafka.topic.catalogue-events",
                    "--catalogue.wire-format", "--catalogue.writer-schema", "--plugins-dir", "--s3-endpoint", "--s3-path-style-access",
                    "--s3-access-key", "--s3-secret-key"), List.of("--dry-run"));
            if (!a.has("--file")) throw new Arguments.UsageException("--file is required\n" + USAGE);
            initializeFileSystems(a);
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
        try {
            List<Path> files = new ArrayList<>();
            for (String file : a.getAll("--file")) files.addAll(containerFiles(file));
            Result result = run(files, options, a.has("--dry-run"), System.err::println);
            System.out.printf("%s %,d of %,d events from %d file(s) to %s in %.1f s (%,.0f events/s); by kind %s%n",
                    a.has("--dry-run") ? "would send" : "sent", result.sent(), result.read(), files.size(),
                    options.get(IndexerOptions.CATALOGUE_TOPIC), result.seconds(), result.read() / Math.max(result.seconds(), 1e-3),
                    result.byKind());
            if (result.refused() > 0) {
                System.out.printf("%,d of them the job will send to the dead letters:%n", result.refused());
                result.refusedByProblem().entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(10)
                        .forEach(e -> System.out.printf("  %,d: %s (e.g. %s)%n", e.getValue(), e.getKey(),
                                String.join(", ", result.examples().getOrDefault(e.getKey(), List.of()))));
            }
        } catch (CatalogueFile.CatalogueFileException | ImportStoppedException | IllegalConfigurationException | UncheckedIOException
                 | IllegalStateException | KafkaException e) {
            System.err.println("import-catalogue: " + e.getMessage());
            System.exit(1);
        }
    }

    /**
     * Checks every file's header and schema, then reads {@code files} in order and sends their events to the
     * catalogue topic {@code options} name (nothing with {@code dryRun}), waiting until every one sent is
     * acknowledged.
     *
     * @param progress gets a line about every 10 s: file, share of its bytes read, events read and acknowledged
     * @throws CatalogueFile.CatalogueFileException if a file cannot be opened or read as the job's events, found
     *                                              before anything is sent
     * @throws IllegalConfigurationException        if the wire-format options are inconsistent or the writer
     *                                              schema file cannot be read ({@link CatalogueWriterSchemas#codec})
     * @throws IllegalStateException                if the topic does not exist or the broker does not answer (before
     *                                              anything is read)
     * @throws ImportStoppedException               if a file turned out damaged or truncated, or Kafka refused a send:
     *                                              the message names the file or product, and how many events were
     *                                              acknowledged before
     */
    public static Result run(List<Path> files, Configuration options, boolean dryRun, Consumer<String> progress) {
        AvroRecordCodec<CatalogueEvent> jobCodec = CatalogueWriterSchemas.codec(options);
        Schema target = targetSchema(jobCodec);
        for (Path path : files) {
            try (CatalogueFile file = CatalogueFile.open(path, target, jobCodec.format())) {
                file.hasNext(); // header, schema and end checked, and the first block decoded (its codec at hand)
            }
        }
        if (dryRun) return send(files, options, jobCodec, null, progress);
        String servers = options.get(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS);
        requireTopic(servers, options.get(IndexerOptions.CATALOGUE_TOPIC));
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProperties(servers))) {
            return send(files, options, jobCodec, producer, progress);
        }
    }

    /** The schema the job reads naked events with; single-object events are written with the job's own (every job knows it). */
    static Schema targetSchema(AvroRecordCodec<CatalogueEvent> jobCodec) {
        return jobCodec.format() == AvroWireFormat.NAKED_BINARY ? jobCodec.writerSchemas().get(0) : jobCodec.readerSchema();
    }

    /** Reads and sends ({@code producer} null: a dry run); stops at the first damaged file or refused send. */
    static Result send(List<Path> files, Configuration options, AvroRecordCodec<CatalogueEvent> jobCodec,
                       Producer<byte[], byte[]> producer, Consumer<String> progress) {
        Schema target = targetSchema(jobCodec);
        String topic = options.get(IndexerOptions.CATALOGUE_TOPIC);
        long started = System.nanoTime();
        long nextProgress = started + PROGRESS_NANOS;
        Counts counts = new Counts();
        AtomicReference<String> failedKey = new AtomicReference<>();
        AtomicReference<Exception> failure = new AtomicReference<>();
        AtomicLong acknowledged = new AtomicLong();
        RuntimeException stopped = null;
        try {
            for (int i = 0; i < files.size() && failure.get() == null; i++) {
                Path path = files.get(i);
                try (CatalogueFile file = CatalogueFile.open(path, target, jobCodec.format())) {
                    while (failure.get() == null && file.hasNext()) {
                        CatalogueFile.Record record = file.next();
                        counts.check(decode(jobCodec, record, path, file.recordsRead()), record.productId());
                        if (producer == null) {
                            acknowledged.incrementAndGet();
                        } else {
                            String key = record.productId();
                            producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), record.value()), (metadata, error) -> {
                                if (error == null) {
                                    acknowledged.incrementAndGet();
                                } else if (failure.compareAndSet(null, error)) {
                                    failedKey.set(key);
                                }
                            });
                        }
                        if (System.nanoTime() >= nextProgress) {
                            nextProgress = System.nanoTime() + PROGRESS_NANOS;
                            progress.accept(String.format("file %d of %d (%s): %.0f %% of its bytes read; %,d events read, %,d acknowledged, %,.0f events/s",
                                    i + 1, files.size(), path.getName(), 100.0 * file.position() / Math.max(file.size(), 1),
                                    counts.read, acknowledged.get(), counts.read / ((System.nanoTime() - started) / 1e9)));
                        }
                    }
                }
            }
        } catch (RuntimeException e) {
            stopped = e;
        } finally {
            if (producer != null) {
                try {
                    producer.flush();
                } catch (RuntimeException e) { // an interrupted flush: keep the first cause and the count
                    if (stopped == null) stopped = e;
                    else stopped.addSuppressed(e);
                }
            }
        }
        if (failure.get() != null) {
            ImportStoppedException e = new ImportStoppedException("Kafka refused the event of product " + failedKey.get() + " for " + topic
                    + " (" + failure.get() + "); " + acknowledged.get() + " events were acknowledged in all when the import stopped",
                    failure.get(), acknowledged.get());
            if (stopped != null) e.addSuppressed(stopped);
            throw e;
        }
        if (stopped != null) {
            throw new ImportStoppedException(stopped.getMessage() + "; " + acknowledged.get() + " events were acknowledged in all"
                    + " when the import stopped", stopped, acknowledged.get());
        }
        return new Result(counts.read, acknowledged.get(), counts.byKind, counts.refused, counts.examples,
                (System.nanoTime() - started) / 1e9);
    }

    /**
     * Fails before anything is read when the topic is missing: its partition count is the deployment's
     * choice (deployment/kafka/topics.yaml), not this tool's, and a producer would only time out.
     */
    private static void requireTopic(String servers, String topic) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
        props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        Admin admin = Admin.create(props);
        try {
            admin.describeTopics(List.of(topic), new DescribeTopicsOptions().timeoutMs(30_000)).allTopicNames().get(35, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalStateException("topic " + topic + " does not exist on " + servers + ": create the job's topics"
                        + " first (deployment/kafka/topics.yaml declares them); nothing was sent");
            }
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw new IllegalStateException("Kafka at " + servers + " did not answer within 30 s; is the broker running?"
                        + " (scripts/kafka-local start); nothing was sent", e.getCause());
            }
            throw new IllegalStateException("cannot describe topic " + topic + " on " + servers + ": " + e.getCause()
                    + "; nothing was sent", e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka at " + servers + " did not answer within 30 s; is the broker running?"
                    + " (scripts/kafka-local start); nothing was sent", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            admin.close(Duration.ofSeconds(1));
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

    /**
     * Flink's file systems as a Flink process sets them up ({@link StoreFileSystems}), when a plugins folder
     * ({@code --plugins-dir}, else {@code $FLINK_PLUGINS_DIR}) or an {@code --s3-*} option is given; else the
     * file systems on the class path ({@code file:}) only.
     *
     * @throws Arguments.UsageException if the {@code --s3-*} options do not go together, or the plugins folder
     *                                  cannot be read
     */
    private static void initializeFileSystems(Arguments a) {
        Map<String, String> s3;
        try {
            s3 = StoreFileSystems.s3Settings(a.get("--s3-endpoint", null), a.get("--s3-path-style-access", null),
                    a.get("--s3-access-key", null), a.get("--s3-secret-key", System.getenv("S3_SECRET_KEY")));
        } catch (IllegalArgumentException e) {
            throw new Arguments.UsageException(e.getMessage());
        }
        String plugins = a.get("--plugins-dir", System.getenv("FLINK_PLUGINS_DIR"));
        boolean withPlugins = plugins != null && !plugins.isBlank();
        if (withPlugins || !s3.isEmpty()) {
            try {
                StoreFileSystems.initialize(s3, withPlugins ? java.nio.file.Path.of(plugins) : null);
            } catch (UncheckedIOException e) {
                throw new Arguments.UsageException("--plugins-dir: " + e.getMessage());
            }
        }
    }

    /**
     * The file at {@code location}, or a folder's {@code *.avro} files in name order.
     *
     * @param location a local path (relative to the working directory) or a Flink file system URI
     *                 ({@code s3://bucket/exports/}, {@code hdfs://...}, {@code file:///...})
     * @throws UncheckedIOException if nothing is there, a folder holds no {@code *.avro} file, no file system
     *                              serves the URI's scheme (the message says which plugin it needs), or the file
     *                              system fails (S3 credentials missing, the endpoint unreachable)
     */
    public static List<Path> containerFiles(String location) {
        Path path = location.contains("://") ? new Path(location) : new Path(java.nio.file.Path.of(location).toAbsolutePath().toUri());
        try {
            FileSystem fs = path.getFileSystem();
            FileStatus status = fs.getFileStatus(path);
            if (!status.isDir()) return List.of(path);
            List<Path> files = new ArrayList<>();
            for (FileStatus listed : fs.listStatus(path)) {
                if (!listed.isDir() && listed.getPath().getName().endsWith(".avro")) files.add(listed.getPath());
            }
            if (files.isEmpty()) throw new UncheckedIOException(location + ": no *.avro file in this folder", new FileNotFoundException(location));
            files.sort(Comparator.comparing(Path::getName));
            return files;
        } catch (UnsupportedFileSystemSchemeException e) {
            throw new UncheckedIOException(location + ": no file system for " + path.toUri().getScheme() + "://"
                    + (path.toUri().getScheme().startsWith("s3")
                    ? " here: s3:// needs Flink's S3 file system, --plugins-dir DIR with s3-fs-presto/ in it (the build puts one in"
                    + " flink-local/target/plugins)" : " (" + e.getMessage() + ")"), e);
        } catch (FileNotFoundException e) {
            throw new UncheckedIOException(location + ": no such file", e);
        } catch (IOException e) {
            throw new UncheckedIOException(location + ": cannot be read: " + e.getMessage(), e);
        } catch (RuntimeException e) { // a file system's own failures: S3 credentials, an unreachable endpoint
            throw new UncheckedIOException(location + ": cannot be read: " + e.getMessage(), new IOException(e));
        }
    }

    /** Quoted values and numbers in a validator's sentence, left out so that one rule is one problem. */
    private static final Pattern VALUES = Pattern.compile("'[^']*'|-?\\d+(\\.\\d+)?");

    static String problemOf(String sentence) {
        return VALUES.matcher(sentence).replaceAll(m -> m.group().startsWith("'") ? "'…'" : "N");
    }

    private static final class Counts {
        long read;
        final Map<String, Long> byKind = new TreeMap<>();
        final Map<String, Long> refused = new TreeMap<>();
        final Map<String, List<String>> examples = new TreeMap<>();

        void check(CatalogueEvent event, String productId) {
            read++;
            byKind.merge(event.getKind().name(), 1L, Long::sum);
            List<String> problems = CatalogueEventValidator.problems(event);
            if (problems.isEmpty()) return;
            String problem = problemOf(problems.get(0));
            if (!refused.containsKey(problem) && refused.size() >= PROBLEMS) problem = OTHER_PROBLEMS;
            refused.merge(problem, 1L, Long::sum);
            List<String> some = examples.computeIfAbsent(problem, p -> new ArrayList<>());
            if (some.size() < EXAMPLES) some.add(productId.isEmpty() ? "(no product id)" : productId);
        }
    }

    private static Properties producerProperties(String bootstrapServers) {
        Properties p = ToolProducers.reliable(bootstrapServers);
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(512 * 1024)); // a bulk load: few, large requests
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        return p;
    }
}
