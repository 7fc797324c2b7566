package dev.similarity.flink;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.flink.deadletter.DeadLetterBudget;
import dev.similarity.flink.event.CatalogueWriterSchemas;
import dev.similarity.flink.fetch.FetchSettings;
import dev.similarity.flink.internal.FlinkRuntimeOptions;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.wire.AvroRecordCodec;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.description.HtmlFormatter;

import java.io.Serializable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The job's settings, read once from a {@link Configuration} and checked: a wrong value fails at
 * start-up with the option's key in the message. Serializable so operators carry it.
 */
public final class IndexerConfig implements Serializable {

    private static final long serialVersionUID = 1L;
    /** The producers' buffer.memory (Kafka's default, which the sinks keep): no record may be larger. */
    private static final long MAX_REQUEST_BYTES = 32L * 1024 * 1024;

    private final Map<String, String> values;

    private IndexerConfig(Configuration configuration) {
        this.values = Map.copyOf(configuration.toMap());
    }

    /** Reads and validates; throws {@link IllegalConfigurationException} naming the bad option. */
    public static IndexerConfig from(Configuration configuration) {
        IndexerConfig config = new IndexerConfig(configuration);
        config.validate();
        return config;
    }

    public static IndexerConfig from(Map<String, String> settings) {
        return from(Configuration.fromMap(settings));
    }

    public <T> T get(ConfigOption<T> option) {
        return configuration().get(option);
    }

    /** The snapshot store URI: the option, else work/snapshots under the working directory. */
    public String snapshotDir() {
        String configured = configuration().get(IndexerOptions.SNAPSHOT_DIR);
        return configured != null ? configured : Path.of("work", "snapshots").toAbsolutePath().toUri().toString();
    }

    /**
     * The codec of catalogue events: {@code catalogue.wire-format} with the producers' writer schemas,
     * read from the files {@code catalogue.writer-schema} / {@code catalogue.known-writer-schemas} name.
     *
     * @throws IllegalConfigurationException naming the option and file of a schema that cannot be read or resolved
     */
    public AvroRecordCodec<CatalogueEvent> catalogueEventCodec() {
        return CatalogueWriterSchemas.codec(configuration());
    }

    /**
     * The settings that are Flink's own job-level options ({@link FlinkRuntimeOptions}), e.g.
     * {@code execution.state-recovery.path}; they go into the job's runtime configuration as given.
     */
    public Map<String, String> flinkRuntimeSettings() {
        Map<String, String> flink = new java.util.TreeMap<>();
        values.forEach((key, value) -> {
            if (FlinkRuntimeOptions.isJobLevel(key)) flink.put(key, value);
        });
        return flink;
    }

    public Configuration configuration() {
        return Configuration.fromMap(values);
    }

    /** The embedding model folder: the option, else the committed model found from the working directory. */
    public Path modelDir() {
        String configured = configuration().get(IndexerOptions.MODEL_DIR);
        if (configured != null) {
            return Path.of(configured);
        }
        return EmbeddingModelDescriptor.findCommitted(Path.of("")).orElseThrow(() -> new IllegalConfigurationException(
                IndexerOptions.MODEL_DIR.key() + " is not set and no models/*/model.json was found from "
                        + Path.of("").toAbsolutePath() + "; set it to a folder with a SavedModel and model.json"));
    }

    /**
     * The folder of the model the restored state was built with, during a model upgrade (the option
     * {@code embedding.previous-model-dir}); empty when not set or when it names the model of {@link #modelDir()}.
     */
    public java.util.Optional<Path> previousModelDir() {
        String configured = configuration().get(IndexerOptions.PREVIOUS_MODEL_DIR);
        if (configured == null || configured.isBlank()) return java.util.Optional.empty();
        Path previous = Path.of(configured);
        return previous.toAbsolutePath().normalize().equals(modelDir().toAbsolutePath().normalize())
                ? java.util.Optional.empty() : java.util.Optional.of(previous);
    }

    private void validate() {
        Configuration c = configuration();
        List<String> known = allOptions().stream().map(ConfigOption::key).toList();
        for (String key : values.keySet()) {
            if (REMOVED_OPTIONS.containsKey(key)) {
                throw new IllegalConfigurationException("option '" + key + "' was removed: " + REMOVED_OPTIONS.get(key));
            }
            if (!known.contains(key) && !FlinkRuntimeOptions.isJobLevel(key)) {
                throw new IllegalConfigurationException("unknown option '" + key + "'; the job's options are: " + String.join(", ", known)
                        + "; Flink's job-level options (execution.*, state.*, pipeline.*, restart-strategy.*, parallelism.default) are accepted too");
            }
        }
        // Every value must parse as its option's type (a duration, a size, an enum constant, ...).
        for (ConfigOption<?> option : allOptions()) {
            try {
                c.get(option);
            } catch (IllegalArgumentException e) {
                throw new IllegalConfigurationException(option.key() + " = " + values.get(option.key()) + " cannot be read: "
                        + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()), e);
            }
        }
        if (c.get(IndexerOptions.DELIVERY_GUARANTEE) == org.apache.flink.connector.base.DeliveryGuarantee.NONE) {
            throw bad(IndexerOptions.DELIVERY_GUARANTEE, "none", "would lose list updates on every failure; use exactly-once or at-least-once");
        }
        positive(c, IndexerOptions.NEIGHBOURS_K);
        nonNegative(c, IndexerOptions.NEIGHBOURS_RESERVE);
        positive(c, IndexerOptions.SHARDS);
        if (!(c.get(IndexerOptions.UPGRADE_REEMBED_RATE) > 0)) {
            throw bad(IndexerOptions.UPGRADE_REEMBED_RATE, String.valueOf(c.get(IndexerOptions.UPGRADE_REEMBED_RATE)),
                    "must be a positive number of products per second");
        }
        positive(c, IndexerOptions.PROBE_WINDOW);
        positive(c, IndexerOptions.REVERSE_SEARCH_MAX_DEPTH);
        positive(c, IndexerOptions.REVERSE_SEARCH_DEPTH);
        nonNegative(c, IndexerOptions.LOW_BAR_NODES);
        positive(c, IndexerOptions.HNSW_MAX_CONN);
        positive(c, IndexerOptions.HNSW_BEAM_WIDTH);
        positive(c, IndexerOptions.SEARCH_CANDIDATES);
        if (c.get(IndexerOptions.INDEX_BATCH_BACKLOG_LAG).isNegative()) {
            throw bad(IndexerOptions.INDEX_BATCH_BACKLOG_LAG, c.get(IndexerOptions.INDEX_BATCH_BACKLOG_LAG), "must not be negative (0 turns batching off)");
        }
        positiveDuration(c, IndexerOptions.INDEX_BATCH_QUIET);
        positiveDuration(c, IndexerOptions.INDEX_BATCH_MAX_DELAY);
        positive(c, IndexerOptions.INDEX_BATCH_MAX_IMAGES);
        positiveDuration(c, IndexerOptions.INDEX_BATCH_SLICE);
        positive(c, IndexerOptions.BATCH_SIZE);
        positive(c, IndexerOptions.MAX_IN_FLIGHT);
        if (c.getOptional(IndexerOptions.PARALLELISM).isPresent()) positive(c, IndexerOptions.PARALLELISM);
        if (c.getOptional(IndexerOptions.PARALLELISM).isPresent() && c.get(IndexerOptions.MAX_PARALLELISM) < c.get(IndexerOptions.PARALLELISM)) {
            throw bad(IndexerOptions.MAX_PARALLELISM, c.get(IndexerOptions.MAX_PARALLELISM),
                    "must be at least " + IndexerOptions.PARALLELISM.key() + " (" + c.get(IndexerOptions.PARALLELISM) + ")");
        }
        nonNegative(c, IndexerOptions.FETCH_MAX_REDIRECTS);
        if (c.get(IndexerOptions.MAX_IMAGE_PIXELS) <= 0) {
            throw bad(IndexerOptions.MAX_IMAGE_PIXELS, c.get(IndexerOptions.MAX_IMAGE_PIXELS), "must be positive");
        }
        if (c.get(IndexerOptions.FETCH_MAX_BYTES).getBytes() <= 0) {
            throw bad(IndexerOptions.FETCH_MAX_BYTES, c.get(IndexerOptions.FETCH_MAX_BYTES), "must be positive");
        }
        positiveDuration(c, IndexerOptions.CHECKPOINT_INTERVAL);
        positiveDuration(c, IndexerOptions.SNAPSHOT_INTERVAL);
        if (c.get(IndexerOptions.SNAPSHOT_INTERVAL).compareTo(Duration.ofMinutes(30)) > 0) {
            throw bad(IndexerOptions.SNAPSHOT_INTERVAL, c.get(IndexerOptions.SNAPSHOT_INTERVAL),
                    "is over 30 min; search services must never be more than 30 min behind");
        }
        positive(c, IndexerOptions.SNAPSHOT_RETAIN);
        if (c.get(IndexerOptions.SNAPSHOT_RETAIN_MIN_AGE).isNegative()) {
            throw bad(IndexerOptions.SNAPSHOT_RETAIN_MIN_AGE, c.get(IndexerOptions.SNAPSHOT_RETAIN_MIN_AGE), "must not be negative");
        }
        long requestBytes = c.get(IndexerOptions.KAFKA_MAX_REQUEST_SIZE).getBytes();
        if (requestBytes < DeadLetterBudget.MIN_REQUEST_BYTES || requestBytes > MAX_REQUEST_BYTES) {
            throw bad(IndexerOptions.KAFKA_MAX_REQUEST_SIZE, c.get(IndexerOptions.KAFKA_MAX_REQUEST_SIZE),
                    "must be from 64 kb (room for a dead letter's copy of its record) to 32 mb (the producers' buffer.memory)");
        }
        positiveDuration(c, IndexerOptions.EMBED_TIMEOUT);
        positiveDuration(c, IndexerOptions.TRANSACTION_TIMEOUT);
        positiveDuration(c, IndexerOptions.FETCH_CONNECT_TIMEOUT);
        positiveDuration(c, IndexerOptions.FETCH_READ_TIMEOUT);
        if (c.get(IndexerOptions.TRANSACTION_TIMEOUT).compareTo(c.get(IndexerOptions.CHECKPOINT_INTERVAL).multipliedBy(3)) < 0) {
            throw bad(IndexerOptions.TRANSACTION_TIMEOUT, c.get(IndexerOptions.TRANSACTION_TIMEOUT),
                    "must be at least three checkpoint intervals (" + IndexerOptions.CHECKPOINT_INTERVAL.key() + " = "
                            + c.get(IndexerOptions.CHECKPOINT_INTERVAL) + ") or open transactions expire before they commit");
        }
        catalogueEventCodec(); // reads and resolves the producers' writer schemas now, not on the first event
        String device = c.get(IndexerOptions.DEVICE);
        if (!List.of("cpu", "gpu", "auto").contains(device)) {
            throw bad(IndexerOptions.DEVICE, device, "must be one of cpu, gpu, auto");
        }
        String model = c.get(IndexerOptions.MODEL_DIR);
        if (model != null && !Files.isRegularFile(Path.of(model, "model.json"))) {
            throw bad(IndexerOptions.MODEL_DIR, model, "has no model.json descriptor; point it at a folder with a SavedModel and model.json");
        }
        String fileRoot = c.get(IndexerOptions.FETCH_FILE_ROOT);
        if (fileRoot != null && !Files.isDirectory(Path.of(fileRoot))) {
            throw bad(IndexerOptions.FETCH_FILE_ROOT, fileRoot, "is not a folder");
        }
        try {
            fetchSettings();
        } catch (IllegalArgumentException e) {
            throw new IllegalConfigurationException(e.getMessage(), e);
        }
        positiveDuration(c, IndexerOptions.FETCH_RETRY_HORIZON);
        positiveDuration(c, IndexerOptions.FETCH_RETRY_INITIAL_BACKOFF);
        if (c.get(IndexerOptions.FETCH_RETRY_MAX_BACKOFF).compareTo(c.get(IndexerOptions.FETCH_RETRY_INITIAL_BACKOFF)) < 0) {
            throw bad(IndexerOptions.FETCH_RETRY_MAX_BACKOFF, c.get(IndexerOptions.FETCH_RETRY_MAX_BACKOFF),
                    "must be at least " + IndexerOptions.FETCH_RETRY_INITIAL_BACKOFF.key());
        }
        if (c.get(IndexerOptions.EMBED_TIMEOUT).compareTo(c.get(IndexerOptions.FETCH_TIMEOUT)) <= 0) {
            throw bad(IndexerOptions.EMBED_TIMEOUT, c.get(IndexerOptions.EMBED_TIMEOUT),
                    "must exceed " + IndexerOptions.FETCH_TIMEOUT.key() + " (" + c.get(IndexerOptions.FETCH_TIMEOUT) + "), or downloads are cut short");
        }
    }

    /** The image fetcher's settings from the fetch.* options. */
    public FetchSettings fetchSettings() {
        Configuration c = configuration();
        String fileRoot = c.get(IndexerOptions.FETCH_FILE_ROOT);
        return FetchSettings.builder()
                .maxBytes(c.get(IndexerOptions.FETCH_MAX_BYTES).getBytes())
                .connectTimeout(c.get(IndexerOptions.FETCH_CONNECT_TIMEOUT))
                .readTimeout(c.get(IndexerOptions.FETCH_READ_TIMEOUT))
                .timeout(c.get(IndexerOptions.FETCH_TIMEOUT))
                .minBytesPerSecond(c.get(IndexerOptions.FETCH_MIN_TRANSFER_RATE).getBytes())
                .maxRedirects(c.get(IndexerOptions.FETCH_MAX_REDIRECTS))
                .maxUrlLength(c.get(IndexerOptions.FETCH_MAX_URL_LENGTH))
                .allowedPorts(c.get(IndexerOptions.FETCH_ALLOWED_PORTS))
                .trustedOrigins(c.get(IndexerOptions.FETCH_TRUSTED_ORIGINS))
                .fileRoot(fileRoot == null ? null : Path.of(fileRoot))
                .maxConnections(c.get(IndexerOptions.FETCH_MAX_CONNECTIONS))
                .maxConnectionsPerHost(c.get(IndexerOptions.FETCH_MAX_CONNECTIONS_PER_HOST))
                .build();
    }

    /** Keys of earlier releases, with what replaces them. */
    private static final Map<String, String> REMOVED_OPTIONS = Map.of(
            "fetch.allow-private-addresses", "it exempted every redirect hop too; name the image servers inside your network in fetch.trusted-origins (first request only)",
            "fetch.threads", "downloads run on virtual threads; use fetch.max-connections and fetch.max-connections-per-host",
            "fetch.max-attempts", "transient failures are retried per image until fetch.retry.horizon",
            "fetch.initial-backoff", "use fetch.retry.initial-backoff");

    private static void positive(Configuration c, ConfigOption<Integer> option) {
        if (c.get(option) < 1) throw bad(option, c.get(option), "must be at least 1");
    }

    private static void nonNegative(Configuration c, ConfigOption<Integer> option) {
        if (c.get(option) < 0) throw bad(option, c.get(option), "must not be negative");
    }

    private static void positiveDuration(Configuration c, ConfigOption<Duration> option) {
        if (c.get(option).isNegative() || c.get(option).isZero()) throw bad(option, c.get(option), "must be positive");
    }

    private static IllegalConfigurationException bad(ConfigOption<?> option, Object value, String why) {
        return new IllegalConfigurationException(option.key() + " = " + value + " " + why);
    }

    /** Markdown table of every option in {@link IndexerOptions}: key, default, description. */
    public static String describeOptions() {
        StringBuilder table = new StringBuilder("| option | default | what it does |\n|---|---|---|\n");
        for (ConfigOption<?> option : allOptions()) {
            Object fallback = option.hasDefaultValue() ? option.defaultValue() : "(none)";
            table.append("| `").append(option.key()).append("` | `").append(fallback).append("` | ")
                    .append(new HtmlFormatter().format(option.description()).replace("|", "\\|")).append(" |\n");
        }
        return table.toString();
    }

    static List<ConfigOption<?>> allOptions() {
        List<ConfigOption<?>> options = new ArrayList<>();
        for (Field field : IndexerOptions.class.getFields()) {
            if (Modifier.isStatic(field.getModifiers()) && ConfigOption.class.isAssignableFrom(field.getType())) {
                try {
                    options.add((ConfigOption<?>) field.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return options;
    }

    public static void main(String[] args) {
        System.out.print(describeOptions());
    }
}
