package dev.similarity.flink.embed;

import dev.similarity.embedding.DeviceSelection;
import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageDecodingException;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.ImageMetadata;
import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.flink.event.ProductChange;
import dev.similarity.flink.fetch.ImageFetchException;
import dev.similarity.flink.internal.Sha256;
import dev.similarity.flink.fetch.ImageFetcher;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Downloads a product's image (one attempt, on a virtual thread, within {@code fetch.timeout}) and
 * embeds it in a micro-batch. Always completes with an {@link EmbeddingOutcome}: a transient failure
 * is marked retryable and is parked for a later attempt by {@link DeadLetterSplitter} and the
 * version gate, so a waiting image holds neither a download slot nor a place in this operator.
 * A change that carried its own embedding ({@link ProductChange#embedding()}) completes at once
 * with it: no download, no model call.
 */
public final class FetchAndEmbedFunction extends RichAsyncFunction<ProductChange, EmbeddingOutcome> {

    private static final long serialVersionUID = 1L;
    private static final int RECENT_EMBEDDINGS = 10_000;

    private final IndexerConfig config;
    private transient ExecutorService downloads;
    private transient ImageFetcher fetcher;
    private transient ImageEmbedder embedder;
    private transient EmbeddingBatcher batcher;
    private transient Counter imagesFetched;
    private transient Counter imagesFailed;
    private transient Counter bytesFetched;
    private transient Counter fetchesRefused;
    private transient Counter fetchesTimedOut;
    private transient MetricGroup fetchFailures;
    private transient Map<ImageFetchException.Code, Counter> failuresByCode;
    private transient AtomicInteger inFlight;
    private transient Map<ImageMetadata, Counter> metadataIgnored;
    private transient Counter embeddingsReused;
    private transient Counter embeddingsFromEvents;
    private transient Map<String, float[]> recentEmbeddings;

    public FetchAndEmbedFunction(IndexerConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        // Virtual threads: a download that waits on a slow host costs a socket, not a platform thread;
        // fetch.max-connections and fetch.max-connections-per-host bound what runs at once.
        downloads = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("image-download-" + subtask + "-", 0).factory());
        fetcher = new ImageFetcher(config.fetchSettings());
        embedder = ImageEmbedder.load(ImageEmbedderConfig.builder()
                .modelDir(config.modelDir())
                .device(DeviceSelection.valueOf(config.get(IndexerOptions.DEVICE).toUpperCase(java.util.Locale.ROOT)))
                .maxImagePixels(config.get(IndexerOptions.MAX_IMAGE_PIXELS))
                .maxImageBytes(config.get(IndexerOptions.FETCH_MAX_BYTES).getBytes())
                .build());

        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        imagesFetched = metrics.counter("imagesFetched");
        imagesFailed = metrics.counter("imagesFailed");
        bytesFetched = metrics.counter("fetchBytes");
        fetchesRefused = metrics.counter("fetchRefused");
        fetchesTimedOut = metrics.counter("fetchTimedOut");
        fetchFailures = metrics.addGroup("fetchFailures");
        failuresByCode = new java.util.concurrent.ConcurrentHashMap<>();
        inFlight = new AtomicInteger();
        metrics.gauge("fetchesInFlight", inFlight::get);
        metrics.gauge("fetchConnectionsOpen", fetcher::openConnections);
        // Damaged ICC, EXIF or XMP blocks are ignored (sRGB, upright as stored): counted, never a refusal.
        metadataIgnored = new java.util.EnumMap<>(ImageMetadata.class);
        MetricGroup ignored = metrics.addGroup("imageMetadataIgnored");
        for (ImageMetadata kind : ImageMetadata.values()) {
            metadataIgnored.put(kind, ignored.counter(kind.name()));
        }
        embeddingsReused = metrics.counter("embeddingsReused");
        embeddingsFromEvents = metrics.counter("embeddingsFromEvents");
        recentEmbeddings = Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, float[]> eldest) {
                return size() > RECENT_EMBEDDINGS;
            }
        });
        Histogram batchSize = metrics.histogram("embeddingBatchSize", new DescriptiveStatisticsHistogram(1000));
        Histogram batchMillis = metrics.histogram("embeddingBatchLatencyMs", new DescriptiveStatisticsHistogram(1000));
        batcher = new EmbeddingBatcher(embedder::embedBatch, config.get(IndexerOptions.BATCH_SIZE),
                config.get(IndexerOptions.BATCH_MAX_WAIT), (size, nanos) -> {
                    batchSize.update(size);
                    batchMillis.update(nanos / 1_000_000);
                }, "embedding-batcher-" + subtask);
    }

    @Override
    public void asyncInvoke(ProductChange change, ResultFuture<EmbeddingOutcome> resultFuture) {
        if (change.isRemoval()) {
            resultFuture.complete(List.of(EmbeddingOutcome.removal(change)));
            return;
        }
        if (change.embedding() != null) {
            // Checked and normalised by the decoder: nothing to fetch, nothing to embed.
            embeddingsFromEvents.inc();
            resultFuture.complete(List.of(EmbeddingOutcome.embedded(change, change.embedding().vector(),
                    change.embedding().contentHash())));
            return;
        }
        CompletableFuture
                .supplyAsync(() -> download(change), downloads)
                .thenCompose(bytes -> embed(change, bytes))
                .exceptionally(error -> failure(change, error))
                .thenAccept(outcome -> {
                    if (outcome.isFailure()) {
                        imagesFailed.inc();
                    }
                    resultFuture.complete(List.of(outcome));
                });
    }

    @Override
    public void timeout(ProductChange change, ResultFuture<EmbeddingOutcome> resultFuture) {
        imagesFailed.inc();
        resultFuture.complete(List.of(EmbeddingOutcome.failed(change, "fetch", "IMAGE_UNREACHABLE",
                "image " + change.imageUrl() + " of product " + change.productId() + " was not fetched and embedded within "
                        + IndexerOptions.EMBED_TIMEOUT.key() + " (" + config.get(IndexerOptions.EMBED_TIMEOUT) + ")", null, true)));
    }

    private byte[] download(ProductChange change) {
        inFlight.incrementAndGet();
        try {
            byte[] bytes = fetcher.fetch(change.imageUrl());
            imagesFetched.inc();
            bytesFetched.inc(bytes.length);
            return bytes;
        } catch (ImageFetchException e) {
            count(e.code());
            throw new CompletionException(e);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    private void count(ImageFetchException.Code code) {
        failuresByCode.computeIfAbsent(code, c -> fetchFailures.counter(c.name())).inc();
        if (code.isPolicyRefusal()) {
            fetchesRefused.inc();
        }
        if (code == ImageFetchException.Code.TIMED_OUT || code == ImageFetchException.Code.DEADLINE_EXCEEDED
                || code == ImageFetchException.Code.TOO_SLOW) {
            fetchesTimedOut.inc();
        }
    }

    /** Image bytes seen recently (by SHA-256) are not embedded again. */
    private CompletableFuture<EmbeddingOutcome> embed(ProductChange change, byte[] bytes) {
        String hash = Sha256.hex(bytes);
        float[] known = recentEmbeddings.get(hash);
        if (known != null) {
            embeddingsReused.inc();
            return CompletableFuture.completedFuture(EmbeddingOutcome.embedded(change, known, hash));
        }
        return batcher.submit(bytes).thenApply(result -> {
            if (result.isSuccess()) {
                recentEmbeddings.put(hash, result.vector());
                for (ImageMetadata kind : result.ignoredMetadata()) {
                    metadataIgnored.get(kind).inc();
                }
            }
            return toOutcome(change, hash, result);
        });
    }

    private static EmbeddingOutcome toOutcome(ProductChange change, String hash, EmbeddingResult result) {
        if (result.isSuccess()) {
            return EmbeddingOutcome.embedded(change, result.vector(), hash);
        }
        ImageDecodingException e = result.error();
        String reason = switch (e.reason()) {
            case TOO_MANY_BYTES, TOO_MANY_PIXELS -> "IMAGE_TOO_LARGE";
            default -> "IMAGE_UNDECODABLE";
        };
        return EmbeddingOutcome.failed(change, "embed", reason,
                "image " + change.imageUrl() + " of product " + change.productId() + ": " + e.getMessage(), e, false);
    }

    private static EmbeddingOutcome failure(ProductChange change, Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof ImageFetchException fetchError) {
            return EmbeddingOutcome.failed(change, "fetch", fetchError.code().deadLetterReason(),
                    "product " + change.productId() + ": " + fetchError.getMessage(), fetchError, fetchError.retryable(),
                    fetchError.retryAfter().map(java.time.Duration::toMillis).orElse(-1L));
        }
        return EmbeddingOutcome.failed(change, "embed", "EMBEDDING_FAILED",
                "embedding the image " + change.imageUrl() + " of product " + change.productId() + " failed: " + cause, cause, false);
    }


    @Override
    public void close() throws Exception {
        if (batcher != null) batcher.close();
        if (downloads != null) downloads.shutdownNow();
        if (fetcher != null) fetcher.close();
        if (embedder != null) embedder.close();
    }
}
