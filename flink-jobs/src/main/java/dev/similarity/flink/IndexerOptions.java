package dev.similarity.flink;

import dev.similarity.flink.index.IdenticalImages;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.connector.base.DeliveryGuarantee;

import java.time.Duration;
import java.util.List;

/**
 * Every setting of the similarity indexer, typed, with its default and what it does. The README's
 * option table is generated from this class ({@link IndexerConfig#describeOptions()}).
 */
public final class IndexerOptions {

    private IndexerOptions() {}

    // ---- Kafka -------------------------------------------------------------------------------

    public static final ConfigOption<String> KAFKA_BOOTSTRAP_SERVERS =
            ConfigOptions.key("kafka.bootstrap-servers").stringType().defaultValue("127.0.0.1:9092")
                    .withDescription("Kafka brokers the job reads catalogue events from and writes lists and dead letters to.");

    public static final ConfigOption<String> CATALOGUE_TOPIC =
            ConfigOptions.key("kafka.topic.catalogue-events").stringType().defaultValue("catalogue-events")
                    .withDescription("Topic of catalogue change events (Avro CatalogueEvent, keyed by product id).");

    public static final ConfigOption<String> NEIGHBOUR_TOPIC =
            ConfigOptions.key("kafka.topic.neighbour-lists").stringType().defaultValue("neighbour-lists")
                    .withDescription("Compacted topic of each product's visually similar neighbours (Avro NeighbourList, keyed by product id; a removed product gets a tombstone).");

    public static final ConfigOption<String> DEAD_LETTER_TOPIC =
            ConfigOptions.key("kafka.topic.dead-letters").stringType().defaultValue("catalogue-dead-letters")
                    .withDescription("Topic of records the job could not process (Avro DeadLetter with the original bytes and the reason).");

    public static final ConfigOption<DeliveryGuarantee> DELIVERY_GUARANTEE =
            ConfigOptions.key("kafka.delivery-guarantee").enumType(DeliveryGuarantee.class).defaultValue(DeliveryGuarantee.EXACTLY_ONCE)
                    .withDescription("Guarantee of the job's Kafka sinks (lists, dead letters, fetch retries). EXACTLY_ONCE: records are written in transactions committed on checkpoints, so read_committed consumers see each update once, a checkpoint interval late. AT_LEAST_ONCE: records are visible at once, but a failure replays those written since the last checkpoint; consumers must then deduplicate by (product, catalogueVersion, eventTimestamp, neighbours).");

    public static final ConfigOption<String> FETCH_RETRY_TOPIC =
            ConfigOptions.key("kafka.topic.fetch-retries").stringType().defaultValue("catalogue-fetch-retries")
                    .withDescription("Topic where images that failed transiently wait for their next try (Avro DeadLetter plus similarity.retry.* headers, keyed by product id), written and read by the job itself, exactly once. scripts/redrive-dead-letters feeds chosen dead letters back through it.");

    public static final ConfigOption<String> CONSUMER_GROUP =
            ConfigOptions.key("kafka.group-id").stringType().defaultValue("similarity-indexer")
                    .withDescription("Consumer group of the catalogue source; offsets are committed on checkpoints.");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
            ConfigOptions.key("kafka.transactional-id-prefix").stringType().defaultValue("similarity-indexer")
                    .withDescription("Prefix of the exactly-once sink's transactional ids; unique per job on a cluster.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT =
            ConfigOptions.key("kafka.transaction-timeout").durationType().defaultValue(Duration.ofMinutes(10))
                    .withDescription("Producer transaction.timeout.ms. Must not exceed the brokers' transaction.max.timeout.ms (15 min by default; checked at start-up) and must outlast a checkpoint plus a restart.");

    public static final ConfigOption<MemorySize> KAFKA_MAX_REQUEST_SIZE =
            ConfigOptions.key("kafka.max-request-size").memoryType().defaultValue(MemorySize.parse("1mb"))
                    .withDescription("Producer max.request.size of the job's sinks: the largest record the job writes. Dead letters are cut to fit it (see the README's Bad input). Must not exceed the brokers' message.max.bytes nor the output topics' max.message.bytes (1 MiB + 12 bytes by default; checked at start-up); from 64 kb to 32 mb (the producers' buffer.memory).");

    public static final ConfigOption<StartingOffsets> STARTING_OFFSETS =
            ConfigOptions.key("kafka.starting-offsets").enumType(StartingOffsets.class).defaultValue(StartingOffsets.COMMITTED_OR_EARLIEST)
                    .withDescription("Where a job without a checkpoint starts reading the catalogue topic.");

    public static final ConfigOption<AvroWireFormat> CATALOGUE_WIRE_FORMAT =
            ConfigOptions.key("catalogue.wire-format").enumType(AvroWireFormat.class).defaultValue(AvroWireFormat.NAKED_BINARY)
                    .withDescription("How catalogue events are encoded: NAKED_BINARY (Divolte's default: plain Avro binary, writer schema from configuration) or SINGLE_OBJECT (Avro single-object encoding with the schema fingerprint).");

    public static final ConfigOption<String> CATALOGUE_WRITER_SCHEMA =
            ConfigOptions.key("catalogue.writer-schema").stringType().noDefaultValue()
                    .withDescription("NAKED_BINARY only: the producers' CatalogueEvent schema (an .avsc file: a path, a file: URI or any URI of a Flink file system), read at start-up. Every event is read with it and resolved to the job's schema by Avro's rules: fields the producers lack take their defaults, fields the job lacks are skipped, int/long/float/double and string/bytes are promoted, an Availability symbol the job lacks reads as UNKNOWN. A file that cannot be read, or a schema the job's cannot be resolved from (Avro's rules, plus logical types they ignore: a decimal of another scale, timestamps in microseconds), stops the job at start-up. Unset: the producers write the job's own schema.");

    public static final ConfigOption<List<String>> CATALOGUE_KNOWN_WRITER_SCHEMAS =
            ConfigOptions.key("catalogue.known-writer-schemas").stringType().asList().noDefaultValue()
                    .withDescription("SINGLE_OBJECT only: the producers' CatalogueEvent schemas, separated by ';': .avsc files, or folders whose *.avsc files are all read (paths, file: URIs or URIs of a Flink file system), read at start-up. Each event is read with the schema whose fingerprint its header names and resolved to the job's schema by Avro's rules; the job's own schema is always known. An event with any other fingerprint goes to the dead letters as UNKNOWN_WRITER_SCHEMA, naming the fingerprint. A file that cannot be read, or a schema the job's cannot be resolved from, stops the job at start-up.");

    // ---- Neighbours and shards ---------------------------------------------------------------

    public static final ConfigOption<Integer> NEIGHBOURS_K =
            ConfigOptions.key("neighbours.k").intType().defaultValue(10)
                    .withDescription("How many visually similar products each published list holds.");

    public static final ConfigOption<Integer> NEIGHBOURS_RESERVE =
            ConfigOptions.key("neighbours.reserve").intType().defaultValue(10)
                    .withDescription("Candidates kept beyond k per product so a list stays complete when neighbours are removed or change.");

    public static final ConfigOption<Integer> PROBE_WINDOW =
            ConfigOptions.key("neighbours.probe-window").intType().defaultValue(20_000)
                    .withDescription("Searches each shard remembers (image, vector, the best k + reserve scores the image has on the shard). Every new image a shard stores is checked against them, and each image whose lowest best score it beats gets it as a candidate. This closes the race between images indexed at about the same time on different shards (each may search the other's shard just before the other is stored there), so it must exceed the images in flight between the shards; reverse updates for older images come from each node's bar on its own shard (neighbours.reverse-search-max-depth, neighbours.low-bar-nodes) whatever the catalogue's size. Costs one dot product per remembered search per stored image, the vectors' memory (heap), and one state write per search (the window is checkpointed and rebuilt after a restore).");

    public static final ConfigOption<Integer> REVERSE_SEARCH_MAX_DEPTH =
            ConfigOptions.key("neighbours.reverse-search-max-depth").intType().defaultValue(16)
                    .withDescription("Reverse updates: each shard sends a new image to the list of each of its own images whose bar (the lowest of the best k + reserve scores the image is known to have) the new image beats. Besides the images near the new one, it finds them in a bar index (an HNSW graph of each image with its bar, searched for the images the new one beats by the widest margin), neighbours.reverse-search-depth deep, doubled while its last result is still beaten, up to this many times k + reserve (at least 2). Bounds the cost of one image's reverse search.");

    public static final ConfigOption<Integer> REVERSE_SEARCH_DEPTH =
            ConfigOptions.key("neighbours.reverse-search-depth").intType().defaultValue(200)
                    .withDescription("Reverse updates: how many results the bar index is first searched for (at least 2 x (k + reserve) and index.hnsw.beam-width), before the search deepens (neighbours.reverse-search-max-depth). HNSW finds a search's last results least surely, and the search stops once its last result no longer takes the new image, so a narrow first search leaves out images it does beat: on our embeddings (ReverseUpdateRecallBenchmark, 20,000 nodes with churn) 100 found 0.990-0.999 of them, 200 found 0.997-0.9998, 400 found 0.999-0.99998. The bar-index search's cost grows with it: end to end, 200 instead of 100 left a fifth (10^5 products) to a third (3 x 10^5) fewer lists lacking a neighbour by a reverse update, for 3-11 % more load time and up to 17 % more churn time (docs/capacity.md).");

    public static final ConfigOption<Integer> LOW_BAR_NODES =
            ConfigOptions.key("neighbours.low-bar-nodes").intType().defaultValue(2_000)
                    .withDescription("Reverse updates: the images of each shard with the lowest bars (outliers and sparse regions, whose lists take images far from them, not found by a search near the new image) are checked against every new image, one dot product each. The set is rebuilt around this many when it doubles or half of it went stale, so it holds between this many and twice as many (the vectors are kept on the heap).");

    public static final ConfigOption<IdenticalImages> IDENTICAL_IMAGES =
            ConfigOptions.key("neighbours.identical-images").enumType(IdenticalImages.class).defaultValue(IdenticalImages.EXCLUDE)
                    .withDescription("What a product's list shows of the other products with exactly its image (the same bytes: a no-image placeholder, one photo for every size or colour): EXCLUDE (none of them: a list is of visually similar alternatives, not copies of the same picture), COLLAPSE (one of them first, the one that has shown the image longest) or FIRST (up to k of them first). Whatever the choice, each other image appears once in a list, named by the product that has shown it longest, and products sharing an image are one node of the HNSW graph.");

    public static final ConfigOption<Integer> SHARDS =
            ConfigOptions.key("index.shards").intType().defaultValue(2)
                    .withDescription("Number of Lucene HNSW shards; distinct images (and the products showing them) are assigned by a hash of the image's content. Every event is searched in every shard, so more shards than subtasks only add work: set it to the largest parallelism you plan (the default fits a parallelism of 2). Changing it re-shards from scratch.");

    public static final ConfigOption<Integer> HNSW_MAX_CONN =
            ConfigOptions.key("index.hnsw.max-conn").intType().defaultValue(16)
                    .withDescription("HNSW graph degree (M): higher improves recall, costs memory and build time.");

    public static final ConfigOption<Integer> HNSW_BEAM_WIDTH =
            ConfigOptions.key("index.hnsw.beam-width").intType().defaultValue(100)
                    .withDescription("HNSW construction beam width (efConstruction).");

    public static final ConfigOption<Integer> SEARCH_CANDIDATES =
            ConfigOptions.key("index.search-candidates").intType().defaultValue(100)
                    .withDescription("HNSW candidates explored per query and shard (efSearch); at least k + reserve is used.");

    public static final ConfigOption<Duration> INDEX_REFRESH_MAX_AGE =
            ConfigOptions.key("index.refresh-max-age").durationType().defaultValue(Duration.ofSeconds(10))
                    .withDescription("Longest a write waits in the exact-search buffer before the HNSW reader is reopened. Writes are visible to queries at once either way.");

    public static final ConfigOption<Duration> INDEX_BATCH_BACKLOG_LAG =
            ConfigOptions.key("index.batch.backlog-lag").durationType().defaultValue(Duration.ofSeconds(5))
                    .withDescription("Bulk phase: a new image whose catalogue event is at least this old when it reaches a shard (the job is working through a backlog: a first run on an existing catalogue, a re-index, a restart after downtime) is not searched at once but collected, and the shard indexes and searches everything collected in one batch (one bulk graph build, each image's partial list searched against the whole batch, reverse updates as for streamed images) when images stop arriving (index.batch.quiet), when a caught-up image arrives, at index.batch.max-images, or after index.batch.max-delay. 0 turns batching off: every image is searched as it arrives. Events whose timestamps are older than the real change (a producer's clock, a replay) are batched too, their lists held at most index.batch.max-delay.");

    public static final ConfigOption<Duration> INDEX_BATCH_QUIET =
            ConfigOptions.key("index.batch.quiet").durationType().defaultValue(Duration.ofSeconds(1))
                    .withDescription("Bulk phase: a shard searches its collected batch once no new image has reached it for this long, not counting its subtask's own batch searches meanwhile; with parallelism above 1, or for twice as long as the longest slice of its subtask's last batch search if that is longer (while one subtask holds its thread, back-pressure holds back the others' input too), or 1 s per 30,000 images collected if that is longer (a large batch waits out pauses upstream: at 10^6 products a 1 s silence cut a bootstrap's first batch at 304,000 images) (index.batch.backlog-lag).");

    public static final ConfigOption<Integer> INDEX_BATCH_MAX_IMAGES =
            ConfigOptions.key("index.batch.max-images").intType().defaultValue(1_000_000)
                    .withDescription("Bulk phase: most images a shard collects before it searches the batch (index.batch.backlog-lag). While a batch is searched its images and their search results are on the heap (about dimension x 4 + 500 bytes per image: 1 GB for 1,000,000 images of 128 dimensions), and until then in state. The search runs in slices (index.batch.slice), so a batch of any size lets checkpoints complete while it runs.");

    public static final ConfigOption<Duration> INDEX_BATCH_SLICE =
            ConfigOptions.key("index.batch.slice").durationType().defaultValue(Duration.ofMillis(500))
                    .withDescription("Bulk phase: a shard searches its batch in slices of about this much work, and reads its input and lets checkpoint barriers pass between them; what arrives meanwhile waits in state and follows the batch in order. A slice also waits while the lists' operator back-pressures the shard (index.batch.backlog-lag). A shard restored from a checkpoint or savepoint rebuilds its HNSW graph and bar index from state in slices of the same size, holding its messages until it is done.");

    public static final ConfigOption<Duration> INDEX_BATCH_MAX_DELAY =
            ConfigOptions.key("index.batch.max-delay").durationType().defaultValue(Duration.ofMinutes(3))
                    .withDescription("Bulk phase: longest the first image of a batch waits before the shard searches the batch, whatever else arrives (index.batch.backlog-lag). Bounds how late a list can be when event timestamps lag behind the real changes.");

    // ---- Embedding -----------------------------------------------------------------------------

    public static final ConfigOption<String> MODEL_DIR =
            ConfigOptions.key("embedding.model-dir").stringType().noDefaultValue()
                    .withDescription("Folder with the TensorFlow SavedModel and its model.json descriptor. Default: the committed Fashion-MNIST model under models/.");

    public static final ConfigOption<String> PREVIOUS_MODEL_DIR =
            ConfigOptions.key("embedding.previous-model-dir").stringType().noDefaultValue()
                    .withDescription("Upgrade the model without downtime: the folder of the model the restored state was built with, when embedding.model-dir names a new one. The job keeps publishing the previous model's lists while it re-embeds every product with the new model beside them, then switches once the new index is complete. Must stay readable until the switch; leave it out once the job has switched and been restarted from a savepoint taken after the switch (see docs/operations.md, upgrade the model).");

    public static final ConfigOption<Double> UPGRADE_REEMBED_RATE =
            ConfigOptions.key("embedding.upgrade.reembed-rate").doubleType().defaultValue(200.0)
                    .withDescription("During a model upgrade: products re-embedded with the new model per second, over all subtasks, so live events keep their latency. At 200/s a catalogue of 10^6 products takes about 1.4 h.");

    public static final ConfigOption<String> DEVICE =
            ConfigOptions.key("embedding.device").stringType().defaultValue("cpu")
                    .withDescription("cpu, gpu or auto. gpu needs the -Pgpu build (TF 2.16 GPU natives: CUDA 12.3, cuDNN 8.9).");

    public static final ConfigOption<Integer> BATCH_SIZE =
            ConfigOptions.key("embedding.batch-size").intType().defaultValue(32)
                    .withDescription("Largest micro-batch of images sent to the model at once.");

    public static final ConfigOption<Duration> BATCH_MAX_WAIT =
            ConfigOptions.key("embedding.batch-max-wait").durationType().defaultValue(Duration.ofMillis(10))
                    .withDescription("Longest an image waits for its micro-batch to fill before the batch runs anyway.");

    public static final ConfigOption<Integer> MAX_IN_FLIGHT =
            ConfigOptions.key("embedding.max-in-flight").intType().defaultValue(256)
                    .withDescription("Bound on concurrent fetch-and-embed requests per subtask (async operator capacity).");

    public static final ConfigOption<Duration> EMBED_TIMEOUT =
            ConfigOptions.key("embedding.timeout").durationType().defaultValue(Duration.ofSeconds(60))
                    .withDescription("Time budget of one attempt to fetch and embed a product's image; past it the attempt counts as a transient failure. Must exceed fetch.timeout.");

    public static final ConfigOption<MemorySize> FETCH_MAX_BYTES =
            ConfigOptions.key("fetch.max-bytes").memoryType().defaultValue(MemorySize.parse("10mb"))
                    .withDescription("Largest image download accepted (bytes as sent: no content encoding is accepted); larger images go to the dead letters.");

    public static final ConfigOption<Long> MAX_IMAGE_PIXELS =
            ConfigOptions.key("embedding.max-image-pixels").longType().defaultValue(4096L * 4096L)
                    .withDescription("Largest image (width x height, read from the header before decoding) accepted.");

    public static final ConfigOption<Duration> FETCH_TIMEOUT =
            ConfigOptions.key("fetch.timeout").durationType().defaultValue(Duration.ofSeconds(20))
                    .withDescription("Deadline of one image download, redirects, headers and body included: at it the connection is closed and the download counts as a transient failure.");

    public static final ConfigOption<Duration> FETCH_CONNECT_TIMEOUT =
            ConfigOptions.key("fetch.connect-timeout").durationType().defaultValue(Duration.ofSeconds(3))
                    .withDescription("TCP connect timeout of an image download.");

    public static final ConfigOption<Duration> FETCH_READ_TIMEOUT =
            ConfigOptions.key("fetch.read-timeout").durationType().defaultValue(Duration.ofSeconds(5))
                    .withDescription("Longest wait for the next byte of a response (headers or body); the whole download is bounded by fetch.timeout.");

    public static final ConfigOption<MemorySize> FETCH_MIN_TRANSFER_RATE =
            ConfigOptions.key("fetch.min-transfer-rate").memoryType().defaultValue(MemorySize.parse("4kb"))
                    .withDescription("Least average body transfer rate, per second, once the body has had 3 s: a server that drips bytes is abandoned (transient failure). 0 turns the check off.");

    public static final ConfigOption<Integer> FETCH_MAX_REDIRECTS =
            ConfigOptions.key("fetch.max-redirects").intType().defaultValue(3)
                    .withDescription("Redirects followed per download; every hop passes the whole URL and address policy again.");

    public static final ConfigOption<Integer> FETCH_MAX_URL_LENGTH =
            ConfigOptions.key("fetch.max-url-length").intType().defaultValue(2048)
                    .withDescription("Longest image URL (and redirect Location) requested, in characters.");

    public static final ConfigOption<List<Integer>> FETCH_ALLOWED_PORTS =
            ConfigOptions.key("fetch.allowed-ports").intType().asList().defaultValues(80, 443, 8080, 8443)
                    .withDescription("Ports image URLs and redirects may name (semicolon-separated). Other ports are refused before any connection.");

    public static final ConfigOption<List<String>> FETCH_TRUSTED_ORIGINS =
            ConfigOptions.key("fetch.trusted-origins").stringType().asList().defaultValues()
                    .withDescription("Origins (scheme://host:port, semicolon-separated) whose image URLs may reach private, loopback or other special-purpose addresses and any port, on the first request only: every redirect hop passes the full policy. For image servers inside your network; the local demo names its own.");

    public static final ConfigOption<String> FETCH_FILE_ROOT =
            ConfigOptions.key("fetch.file-root").stringType().noDefaultValue()
                    .withDescription("Folder that file: image URLs may read regular files from (links must lead inside it too). Unset: file: URLs are refused.");

    public static final ConfigOption<Integer> FETCH_MAX_CONNECTIONS =
            ConfigOptions.key("fetch.max-connections").intType().defaultValue(64)
                    .withDescription("Image downloads running at once per subtask (each on a virtual thread).");

    public static final ConfigOption<Integer> FETCH_MAX_CONNECTIONS_PER_HOST =
            ConfigOptions.key("fetch.max-connections-per-host").intType().defaultValue(8)
                    .withDescription("Image downloads running at once per host and subtask, so one slow partner cannot take every connection.");

    public static final ConfigOption<Duration> FETCH_RETRY_HORIZON =
            ConfigOptions.key("fetch.retry.horizon").durationType().defaultValue(Duration.ofMinutes(10))
                    .withDescription("How long after an image's first transient failure (connection refused, timeout, 5xx, 429) it is still retried; after that it goes to the dead letters. Waiting images are parked in the retry topic and keyed state, holding no download slot.");

    public static final ConfigOption<Duration> FETCH_RETRY_INITIAL_BACKOFF =
            ConfigOptions.key("fetch.retry.initial-backoff").durationType().defaultValue(Duration.ofSeconds(1))
                    .withDescription("Delay before an image's first retry; it doubles with each retry of that image up to fetch.retry.max-backoff, with jitter (between half and all of it). A Retry-After header, up to the maximum, takes precedence.");

    public static final ConfigOption<Duration> FETCH_RETRY_MAX_BACKOFF =
            ConfigOptions.key("fetch.retry.max-backoff").durationType().defaultValue(Duration.ofMinutes(1))
                    .withDescription("Longest delay between two retries of one image.");

    // ---- Runtime -------------------------------------------------------------------------------

    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL =
            ConfigOptions.key("indexer.checkpoint-interval").durationType().defaultValue(Duration.ofSeconds(1))
                    .withDescription("Checkpoint interval. Lists become visible to read_committed consumers when the checkpoint after them completes, so this bounds freshness.");

    public static final ConfigOption<String> CHECKPOINT_DIR =
            ConfigOptions.key("indexer.checkpoint-dir").stringType().noDefaultValue()
                    .withDescription("Checkpoint storage URI (file:///..., s3://...). Unset: the cluster's execution.checkpointing.dir (state.checkpoints.dir), where operators look for retained checkpoints.");

    public static final ConfigOption<Integer> PARALLELISM =
            ConfigOptions.key("indexer.parallelism").intType().noDefaultValue()
                    .withDescription("Parallelism of every operator; shards are spread over it. Unset: the parallelism the job is submitted with (the web UI's Parallelism field, the REST run request, flink run -p) or the cluster's parallelism.default. Set, it overrides them.");

    public static final ConfigOption<Integer> MAX_PARALLELISM =
            ConfigOptions.key("indexer.max-parallelism").intType().defaultValue(128)
                    .withDescription("Upper bound of rescaling (Flink key groups). Fixed for the life of the job's state: savepoints restore only with the same value.");

    // ---- Snapshots for search services --------------------------------------------------------

    public static final ConfigOption<String> SNAPSHOT_DIR =
            ConfigOptions.key("snapshot.dir").stringType().noDefaultValue()
                    .withDescription("Snapshot store URI (a local folder, file:///..., s3://...) where every shard's index is published for search services. Default: work/snapshots under the working directory.");

    public static final ConfigOption<Duration> SNAPSHOT_INTERVAL =
            ConfigOptions.key("snapshot.interval").durationType().defaultValue(Duration.ofSeconds(10))
                    .withDescription("Least time between two snapshots of a changed shard; a snapshot is taken at the first checkpoint after it and published when that checkpoint completes. At most 30 min.");

    public static final ConfigOption<Integer> SNAPSHOT_RETAIN =
            ConfigOptions.key("snapshot.retain").intType().defaultValue(3)
                    .withDescription("Newest snapshots per shard always kept in the store.");

    public static final ConfigOption<Duration> SNAPSHOT_RETAIN_MIN_AGE =
            ConfigOptions.key("snapshot.retain-min-age").durationType().defaultValue(Duration.ofMinutes(10))
                    .withDescription("Snapshots (and their files) younger than this are kept even beyond snapshot.retain, so a search service that started loading one can finish.");

    public enum StartingOffsets { COMMITTED_OR_EARLIEST, EARLIEST, LATEST }
}
