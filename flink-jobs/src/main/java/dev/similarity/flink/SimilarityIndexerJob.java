package dev.similarity.flink;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.flink.deadletter.DeadLetterBudget;
import dev.similarity.flink.deadletter.DeadLetterRecord;
import dev.similarity.flink.embed.DeadLetterSplitter;
import dev.similarity.flink.embed.EmbeddingOutcome;
import dev.similarity.flink.embed.FetchAndEmbedFunction;
import dev.similarity.flink.embed.FetchRetry;
import dev.similarity.flink.fetch.RetryBackoff;
import dev.similarity.flink.kafka.FetchRetryDeserializer;
import dev.similarity.flink.kafka.FetchRetrySerializer;
import dev.similarity.flink.event.CatalogueEventDecoder;
import dev.similarity.flink.event.EventEmbeddingCheck;
import dev.similarity.flink.event.KafkaCatalogueRecordSchema;
import dev.similarity.flink.event.ProductChange;
import dev.similarity.flink.event.RawCatalogueRecord;
import dev.similarity.flink.event.VersionGate;
import dev.similarity.flink.index.ImageChange;
import dev.similarity.flink.index.ImageSharers;
import dev.similarity.flink.index.ListMessage;
import dev.similarity.flink.index.ListPublisher;
import dev.similarity.flink.index.NeighbourListFunction;
import dev.similarity.flink.index.NeighbourListUpdate;
import dev.similarity.flink.index.ProductImages;
import dev.similarity.flink.index.ShardIndexFunction;
import dev.similarity.flink.index.ShardIndexOperator;
import dev.similarity.flink.index.ShardMessage;
import dev.similarity.flink.index.ShardRouting;
import dev.similarity.flink.kafka.BrokerLimits;
import dev.similarity.flink.kafka.DeadLetterSerializer;
import dev.similarity.flink.kafka.NeighbourListSerializer;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;

import dev.similarity.flink.kafka.ModelListSerializer;
import dev.similarity.flink.upgrade.ModelList;
import dev.similarity.flink.upgrade.ModelSwitch;
import dev.similarity.flink.upgrade.ModelSwitchGate;
import dev.similarity.flink.upgrade.ModelSwitchMarker;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.configuration.StateRecoveryOptions;
import dev.similarity.flink.upgrade.ModelUids;
import dev.similarity.flink.upgrade.ReembeddingProductImages;
import dev.similarity.flink.upgrade.UpgradeCoordinator;
import dev.similarity.flink.upgrade.UpgradeProgress;
import dev.similarity.flink.upgrade.UpgradeTracker;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.KeyedStream;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * The streaming indexer, top to bottom:
 * <pre>
 * catalogue-events (Kafka)
 *   -> decode and validate ............ bad records, embeddings of another model -> dead letters
 *   -> keyBy product: drop stale versions; park retries until due <---- fetch-retries (Kafka)
 *   -> fetch image + embed (async, one attempt, micro-batched;          ^
 *                           an event that carried its embedding skips both)
 *        ... transient failures within the retry horizon -> fetch-retries (Kafka, exactly-once)
 *        ... other failures -> dead letters
 *   -> keyBy product: each product's current image (by content hash): join / leave images;
 *                     the product's own document to the shard of its id
 *   -> keyBy image: the products showing each distinct image; a new image is copied to every shard
 *   -> keyBy shard: Lucene HNSW shard, one node per distinct image (owner stores; every shard searches: scatter)
 *        ... on completed checkpoints: index snapshots -> snapshot store (search services)
 *   -> keyBy image: merge partial results, keep the image's list right as others change (gather),
 *                   publish it for every product showing the image
 *   -> keyBy product: publish only what is news (a product moving between images)
 *   -> neighbour-lists (Kafka, exactly-once; removed products get tombstones)
 * </pre>
 * During a model upgrade ({@code embedding.previous-model-dir}) everything from fetch + embed to the
 * publish step runs twice, once per model: the previous model's {@code product-images} also walks its
 * products into the new model's fetch + embed; a coordinator decides when the new model has listed them
 * all, and a gate in front of the lists topic switches from the previous model's lists to the new one's
 * ({@link #upgradeToNewModel}).
 */
public final class SimilarityIndexerJob {

    public static final String JOB_NAME = "similarity-indexer";

    private SimilarityIndexerJob() {}

    /**
     * Arguments: {@code --option.key value} pairs; see the README's option table. Settings the brokers
     * would refuse are refused first ({@link BrokerLimits}), as in {@link #start}.
     */
    public static void main(String[] args) throws Exception {
        IndexerConfig config = IndexerConfig.from(parseArgs(args));
        BrokerLimits.verify(config);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(runtimeConfiguration(config));
        build(env, config);
        env.execute(JOB_NAME);
    }

    /**
     * Adds the whole dataflow to {@code env}. With {@code embedding.previous-model-dir} naming another
     * model than {@code embedding.model-dir}, the job upgrades: see {@link #upgradeToNewModel}.
     */
    public static void build(StreamExecutionEnvironment env, IndexerConfig config) {
        EmbeddingModelDescriptor model = EmbeddingModelDescriptor.read(config.modelDir());
        Optional<Path> previousDir = config.previousModelDir();
        EmbeddingModelDescriptor previous = previousDir.map(EmbeddingModelDescriptor::read)
                .filter(p -> !p.qualifiedId().equals(model.qualifiedId())).orElse(null);
        // The model whose lists the job publishes now: the previous one until an upgrade switches.
        EmbeddingModelDescriptor serving = previous != null ? previous : model;
        Path servingDir = previous != null ? previousDir.get() : config.modelDir();
        int shards = config.get(IndexerOptions.SHARDS);
        // Unset, the submission's parallelism (web UI, REST, flink run -p) stands.
        config.configuration().getOptional(IndexerOptions.PARALLELISM).ifPresent(env::setParallelism);
        env.setMaxParallelism(config.get(IndexerOptions.MAX_PARALLELISM));
        ShardRouting routing = new ShardRouting(shards, config.get(IndexerOptions.MAX_PARALLELISM));
        // What one dead letter or fetch retry may take: the sinks' max.request.size.
        DeadLetterBudget budget = new DeadLetterBudget(config.get(IndexerOptions.KAFKA_MAX_REQUEST_SIZE).getBytes());

        DataStream<RawCatalogueRecord> records = env
                .fromSource(catalogueSource(config), WatermarkStrategy.noWatermarks(), "catalogue-events")
                .uid("catalogue-source");

        // Events that carry their own embedding must carry one of the model the job serves.
        EventEmbeddingCheck eventEmbeddings = new EventEmbeddingCheck(serving.qualifiedId(), serving.embeddingDimension());
        SingleOutputStreamOperator<ProductChange> changes = records
                .process(new CatalogueEventDecoder(config.catalogueEventCodec(), eventEmbeddings))
                .name("decode-and-validate").uid("decode-and-validate");

        // Images that failed transiently come back from the fetch-retry topic, which this job writes below.
        SingleOutputStreamOperator<ProductChange> retries = env
                .fromSource(fetchRetrySource(config), WatermarkStrategy.noWatermarks(), "fetch-retries")
                .uid("fetch-retry-source")
                .process(new CatalogueEventDecoder(config.catalogueEventCodec(), eventEmbeddings))
                .name("decode-retries").uid("decode-retries");

        DataStream<ProductChange> newestChanges = changes
                .union(retries)
                .keyBy(ProductChange::productId)
                .process(new VersionGate())
                .name("drop-stale-versions-park-retries").uid("drop-stale-versions");

        String servingSuffix = ModelUids.suffixOf(serving.qualifiedId(), env.getConfiguration());
        if (previous == null && !servingSuffix.isEmpty() && !ModelSwitchMarker.exists(stagingSnapshotDir(config, model.qualifiedId()))) {
            throw new IllegalConfigurationException("the savepoint holds an upgrade to model '" + model.qualifiedId()
                    + "' that has not switched yet (no " + stagingSnapshotDir(config, model.qualifiedId()) + "/SWITCHED):"
                    + " resume it with " + IndexerOptions.PREVIOUS_MODEL_DIR.key() + " set to the previous model's folder");
        }
        ModelIndex served = modelIndex(config, newestChanges, servingDir, serving, servingSuffix, true,
                previous != null ? config.get(IndexerOptions.UPGRADE_REEMBED_RATE) : 0, config.snapshotDir(),
                previous != null ? stagingSnapshotDir(config, model.qualifiedId()) : null, false, routing, budget);
        DataStream<FetchRetry> fetchRetries = served.retries();
        DataStream<DeadLetterRecord> failedImages = served.deadLetters();
        if (previous == null) {
            served.lists().sinkTo(kafkaSink(config, new NeighbourListSerializer(config.get(IndexerOptions.NEIGHBOUR_TOPIC),
                            model.qualifiedId()), "lists"))
                    .name("neighbour-lists-sink").uid("neighbour-lists-sink");
        } else {
            ModelIndex upgraded = upgradeToNewModel(config, newestChanges, served, model, previous, routing, budget);
            fetchRetries = fetchRetries.union(upgraded.retries());
            failedImages = failedImages.union(upgraded.deadLetters());
        }

        fetchRetries
                .sinkTo(kafkaSink(config, new FetchRetrySerializer(config.get(IndexerOptions.FETCH_RETRY_TOPIC), budget), "fetch-retries"))
                .name("fetch-retry-sink").uid("fetch-retry-sink");

        changes.getSideOutput(DeadLetterRecord.TAG)
                .union(retries.getSideOutput(DeadLetterRecord.TAG), failedImages)
                .sinkTo(kafkaSink(config, new DeadLetterSerializer(config.get(IndexerOptions.DEAD_LETTER_TOPIC), budget), "dead-letters"))
                .name("dead-letter-sink").uid("dead-letter-sink");
    }

    /** One model's index: its lists (deduplicated per product), its fetch retries and dead letters, its product-images operator. */
    private record ModelIndex(DataStream<NeighbourListUpdate> lists, DataStream<FetchRetry> retries,
                              DataStream<DeadLetterRecord> deadLetters, SingleOutputStreamOperator<ImageChange> productImages) {}

    /**
     * Fetch and embed with one model, then its shards and lists; uids suffixed with {@code uidSuffix}
     * (see {@link ModelUids}). With {@code reembedRate} > 0 its product-images operator also walks its
     * products for a model upgrade ({@link ReembeddingProductImages}).
     */
    private static ModelIndex modelIndex(IndexerConfig config, DataStream<ProductChange> changes, Path modelDir,
                                         EmbeddingModelDescriptor model, String uidSuffix, boolean useCarriedEmbeddings,
                                         double reembedRate, String snapshotDir, String switchMarkerDir, boolean promoteOnSwitch,
                                         ShardRouting routing, DeadLetterBudget budget) {
        String id = model.qualifiedId();
        String named = uidSuffix.isEmpty() ? "" : " " + uidSuffix;
        // One attempt per element: retries are parked outside this operator, so a failing host holds no capacity.
        SingleOutputStreamOperator<EmbeddingOutcome> outcomes = AsyncDataStream.unorderedWait(
                        changes,
                        new FetchAndEmbedFunction(config, modelDir, useCarriedEmbeddings),
                        config.get(IndexerOptions.EMBED_TIMEOUT).toMillis(), TimeUnit.MILLISECONDS,
                        config.get(IndexerOptions.MAX_IN_FLIGHT))
                .name("fetch-and-embed" + named).uid("fetch-and-embed" + uidSuffix);

        SingleOutputStreamOperator<EmbeddingOutcome> embedded = outcomes
                .process(new DeadLetterSplitter(new RetryBackoff(config.get(IndexerOptions.FETCH_RETRY_INITIAL_BACKOFF),
                        config.get(IndexerOptions.FETCH_RETRY_MAX_BACKOFF), config.get(IndexerOptions.FETCH_RETRY_HORIZON)), budget))
                .name("split-failed-images" + named).uid("split-failed-images" + uidSuffix);

        KeyedStream<EmbeddingOutcome, String> byProduct = embedded.keyBy(outcome -> outcome.change().productId());
        ProductImages products = new ProductImages(routing, id);
        SingleOutputStreamOperator<ImageChange> productImages = (reembedRate > 0
                ? byProduct.transform(ModelUids.PRODUCT_IMAGES + named, TypeInformation.of(ImageChange.class),
                        new ReembeddingProductImages(products, reembedRate))
                : byProduct.process(products).name(ModelUids.PRODUCT_IMAGES + named))
                .uid(ModelUids.PRODUCT_IMAGES + uidSuffix);

        SingleOutputStreamOperator<ShardMessage> imageChanges = productImages
                .keyBy(ImageChange::imageKey)
                .process(new ImageSharers(routing))
                .name("image-sharers" + named).uid("image-sharers" + uidSuffix);

        DataStream<NeighbourListUpdate> lists = imageChanges
                .union(productImages.getSideOutput(ProductImages.PRODUCT_DOCUMENTS))
                .keyBy(ShardMessage::routingKey)
                .transform("shard-index-scatter" + named, TypeInformation.of(ListMessage.class), new ShardIndexOperator(
                        new ShardIndexFunction(config, routing, model.embeddingDimension(), id, snapshotDir, switchMarkerDir,
                                promoteOnSwitch)))
                .uid("shard-index" + uidSuffix)
                .union(imageChanges.getSideOutput(ImageSharers.SHARERS))
                .keyBy(ListMessage::target)
                .process(new NeighbourListFunction(config.get(IndexerOptions.NEIGHBOURS_K), config.get(IndexerOptions.NEIGHBOURS_RESERVE),
                        config.get(IndexerOptions.IDENTICAL_IMAGES)))
                .name("neighbour-lists-gather" + named).uid("image-neighbour-lists" + uidSuffix)
                .keyBy(NeighbourListUpdate::productId)
                .process(new ListPublisher())
                .name("neighbour-lists-publish" + named).uid("list-publisher" + uidSuffix);
        return new ModelIndex(lists, embedded.getSideOutput(FetchRetry.TAG), embedded.getSideOutput(DeadLetterRecord.TAG), productImages);
    }

    /**
     * The model upgrade: the new model's index beside the previous one's ({@code served}), fed by the
     * same live changes plus every product the previous model holds (walked at
     * {@code embedding.upgrade.reembed-rate}); its snapshots are staged ({@link #stagingSnapshotDir})
     * and its lists held by the {@link ModelSwitchGate} until the {@link UpgradeCoordinator} finds its
     * index complete, then published instead of the previous model's, in one switch.
     */
    private static ModelIndex upgradeToNewModel(IndexerConfig config, DataStream<ProductChange> newestChanges, ModelIndex served,
                                                EmbeddingModelDescriptor model, EmbeddingModelDescriptor previous,
                                                ShardRouting routing, DeadLetterBudget budget) {
        String suffix = ModelUids.upgradeSuffix(model.qualifiedId());
        DataStream<ProductChange> toReembed = served.productImages().getSideOutput(ReembeddingProductImages.REEMBED);
        // Events carry embeddings of the previous model only (the decoder checks them): the new model embeds their images.
        String staging = stagingSnapshotDir(config, model.qualifiedId());
        ModelIndex upgraded = modelIndex(config, newestChanges.union(toReembed), config.modelDir(), model, suffix, false, 0,
                staging, staging, true, routing, budget);

        DataStream<ModelSwitch> switchOver = served.productImages().getSideOutput(ReembeddingProductImages.PROGRESS)
                .union(upgraded.lists().map(list -> UpgradeProgress.listed(list.productId()))
                        .name("new-model-listed" + " " + suffix).uid("model-upgrade-listed" + suffix))
                .filter(progress -> progress.kind() != UpgradeProgress.Kind.WALK_DONE)
                .name("model-upgrade-per-product").uid("model-upgrade-per-product" + suffix)
                .keyBy(UpgradeProgress::productId)
                .process(new UpgradeTracker())
                .name("model-upgrade-tracker").uid("model-upgrade-tracker" + suffix)
                .union(served.productImages().getSideOutput(ReembeddingProductImages.PROGRESS)
                        .filter(progress -> progress.kind() == UpgradeProgress.Kind.WALK_DONE)
                        .name("model-upgrade-walks-done").uid("model-upgrade-walks-done" + suffix))
                .keyBy(progress -> 0)
                .process(new UpgradeCoordinator(staging, model.qualifiedId()))
                .name("model-upgrade-coordinator").uid("model-upgrade-coordinator" + suffix)
                .setParallelism(1).setMaxParallelism(1);

        served.lists().map(list -> new ModelList(false, list)).name("previous-model-lists").uid("previous-model-lists" + suffix)
                .union(upgraded.lists().map(list -> new ModelList(true, list)).name("new-model-lists").uid("new-model-lists" + suffix))
                .keyBy(list -> list.update().productId())
                .connect(switchOver.broadcast(ModelSwitchGate.SWITCH))
                .process(new ModelSwitchGate())
                .name("model-switch-gate").uid("model-switch-gate" + suffix)
                .sinkTo(kafkaSink(config, new ModelListSerializer(config.get(IndexerOptions.NEIGHBOUR_TOPIC),
                        previous.qualifiedId(), model.qualifiedId()), "lists"))
                .name("neighbour-lists-sink").uid("neighbour-lists-sink");
        return upgraded;
    }

    /** Where a new model's snapshots are published until its lists are: a folder of the store that readers never list. */
    public static String stagingSnapshotDir(IndexerConfig config, String qualifiedModelId) {
        String root = config.snapshotDir();
        return (root.endsWith("/") ? root : root + "/") + "model-upgrade/" + qualifiedModelId.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    /**
     * RocksDB, incremental exactly-once checkpoints kept on cancellation, from the job's options; then
     * any of Flink's job-level options given as arguments ({@code --execution.state-recovery.path ...}).
     */
    public static Configuration runtimeConfiguration(IndexerConfig config) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
        conf.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        conf.set(CheckpointingOptions.CHECKPOINTING_INTERVAL, config.get(IndexerOptions.CHECKPOINT_INTERVAL));
        conf.set(CheckpointingOptions.CHECKPOINTING_CONSISTENCY_MODE, CheckpointingMode.EXACTLY_ONCE);
        conf.set(CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION, ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
        conf.set(CheckpointingOptions.MIN_PAUSE_BETWEEN_CHECKPOINTS, Duration.ofMillis(100));
        // Barriers overtake queued records, so lists commit on time even while the job runs behind.
        conf.set(CheckpointingOptions.ENABLE_UNALIGNED, true);
        conf.set(CheckpointingOptions.ALIGNED_CHECKPOINT_TIMEOUT, Duration.ZERO);
        // Unset, the cluster's checkpoint directory applies.
        String dir = config.get(IndexerOptions.CHECKPOINT_DIR);
        if (dir != null) conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, dir);
        // Flink's own options given as job arguments (a savepoint to resume from, ...) win over the above.
        config.flinkRuntimeSettings().forEach(conf::setString);
        // After a model upgrade switched, the first restart with the new model only drops the previous
        // model's operators (and the upgrade's own): their state is the one thing the savepoint holds that
        // the job no longer has.
        if (conf.contains(StateRecoveryOptions.SAVEPOINT_PATH) && config.previousModelDir().isEmpty()
                && !conf.contains(StateRecoveryOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE)
                && !ModelUids.suffixOf(EmbeddingModelDescriptor.read(config.modelDir()).qualifiedId(), conf).isEmpty()) {
            conf.set(StateRecoveryOptions.SAVEPOINT_IGNORE_UNCLAIMED_STATE, true);
        }
        return conf;
    }

    private static KafkaSource<RawCatalogueRecord> catalogueSource(IndexerConfig config) {
        OffsetsInitializer start = switch (config.get(IndexerOptions.STARTING_OFFSETS)) {
            case COMMITTED_OR_EARLIEST -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
        };
        return KafkaSource.<RawCatalogueRecord>builder()
                .setBootstrapServers(config.get(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS))
                .setTopics(config.get(IndexerOptions.CATALOGUE_TOPIC))
                .setGroupId(config.get(IndexerOptions.CONSUMER_GROUP))
                .setStartingOffsets(start)
                .setDeserializer(new KafkaCatalogueRecordSchema())
                .setProperty("isolation.level", "read_committed")
                .setProperty("partition.discovery.interval.ms", "60000")
                .build();
    }

    private static KafkaSource<RawCatalogueRecord> fetchRetrySource(IndexerConfig config) {
        return KafkaSource.<RawCatalogueRecord>builder()
                .setBootstrapServers(config.get(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS))
                .setTopics(config.get(IndexerOptions.FETCH_RETRY_TOPIC))
                .setGroupId(config.get(IndexerOptions.CONSUMER_GROUP))
                // Only this job writes the topic: without a checkpoint, everything in it is still owed a retry.
                .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                .setDeserializer(new FetchRetryDeserializer())
                .setProperty("isolation.level", "read_committed")
                .setProperty("partition.discovery.interval.ms", "60000")
                .build();
    }

    /** The job's Kafka sinks (package-private for SinkFailoverIT, which fails a job over under one). */
    static <T> KafkaSink<T> kafkaSink(IndexerConfig config,
            org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema<T> serializer, String name) {
        Properties producer = new Properties();
        producer.setProperty("transaction.timeout.ms", String.valueOf(config.get(IndexerOptions.TRANSACTION_TIMEOUT).toMillis()));
        // Set, not left to the client's default: the dead letters' budget is derived from it.
        producer.setProperty("max.request.size", String.valueOf(config.get(IndexerOptions.KAFKA_MAX_REQUEST_SIZE).getBytes()));
        // Transactional records become visible at the checkpoint's commit, and the flush before it ignores
        // linger: lingering only makes fewer, bigger requests for the broker.
        producer.setProperty("linger.ms", "100");
        return KafkaSink.<T>builder()
                .setBootstrapServers(config.get(IndexerOptions.KAFKA_BOOTSTRAP_SERVERS))
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(config.get(IndexerOptions.DELIVERY_GUARANTEE))
                .setTransactionalIdPrefix(config.get(IndexerOptions.TRANSACTIONAL_ID_PREFIX) + "-" + name)
                .setKafkaProducerConfig(producer)
                .build();
    }

    static Map<String, String> parseArgs(String[] args) {
        Map<String, String> settings = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("expected --option.key value, got '" + arg + "'");
            }
            String key = arg.substring(2);
            int eq = key.indexOf('=');
            if (eq >= 0) {
                settings.put(key.substring(0, eq), key.substring(eq + 1));
            } else if (i + 1 < args.length) {
                settings.put(key, args[++i]);
            } else {
                throw new IllegalArgumentException("option --" + key + " has no value");
            }
        }
        return settings;
    }

    /**
     * For callers that submit the job and keep a handle on it (demo, benchmarks, tests).
     *
     * @throws org.apache.flink.configuration.IllegalConfigurationException if the brokers would refuse
     *     the job's transaction timeout or request size ({@link BrokerLimits})
     */
    public static JobClient start(StreamExecutionEnvironment env, IndexerConfig config) throws Exception {
        BrokerLimits.verify(config);
        build(env, config);
        return env.executeAsync(JOB_NAME);
    }
}
