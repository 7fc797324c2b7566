package dev.similarity.flink.embed;

import dev.similarity.embedding.DeviceSelection;
import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageDecodingException;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.flink.event.ProductChange;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Downloads a product's image on a download pool and embeds it in a micro-batch. Always completes
 * with an {@link EmbeddingOutcome}: a transient failure is marked retryable (the operator's retry
 * strategy tries again with backoff), a permanent one travels on to the dead letters.
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
    private transient Counter embeddingsReused;
    private transient Map<String, float[]> recentEmbeddings;

    public FetchAndEmbedFunction(IndexerConfig config) {
        this.config = config;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        int subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        AtomicInteger threadNumber = new AtomicInteger();
        downloads = Executors.newFixedThreadPool(config.get(IndexerOptions.FETCH_THREADS), r -> {
            Thread t = new Thread(r, "image-download-" + subtask + "-" + threadNumber.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        String fileRoot = config.get(IndexerOptions.FETCH_FILE_ROOT);
        fetcher = new ImageFetcher(new ImageFetcher.Settings(
                config.get(IndexerOptions.FETCH_MAX_BYTES).getBytes(),
                config.get(IndexerOptions.FETCH_CONNECT_TIMEOUT),
                config.get(IndexerOptions.FETCH_READ_TIMEOUT),
                config.get(IndexerOptions.FETCH_MAX_REDIRECTS),
                config.get(IndexerOptions.FETCH_ALLOW_PRIVATE_ADDRESSES),
                fileRoot == null ? null : Path.of(fileRoot)));
        embedder = ImageEmbedder.load(ImageEmbedderConfig.builder()
                .modelDir(config.modelDir())
                .device(DeviceSelection.valueOf(config.get(IndexerOptions.DEVICE).toUpperCase(java.util.Locale.ROOT)))
                .maxImagePixels(config.get(IndexerOptions.MAX_IMAGE_PIXELS))
                .maxImageBytes(config.get(IndexerOptions.FETCH_MAX_BYTES).getBytes())
                .build());

        MetricGroup metrics = getRuntimeContext().getMetricGroup();
        imagesFetched = metrics.counter("imagesFetched");
        imagesFailed = metrics.counter("imagesFailed");
        embeddingsReused = metrics.counter("embeddingsReused");
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
                        + IndexerOptions.EMBED_TIMEOUT.key() + " (" + config.get(IndexerOptions.EMBED_TIMEOUT) + ")", null, false)));
    }

    private byte[] download(ProductChange change) {
        try {
            byte[] bytes = fetcher.fetch(change.imageUrl());
            imagesFetched.inc();
            return bytes;
        } catch (ImageFetchException e) {
            throw new CompletionException(e);
        }
    }

    /** Image bytes seen recently (by SHA-256) are not embedded again. */
    private CompletableFuture<EmbeddingOutcome> embed(ProductChange change, byte[] bytes) {
        String hash = sha256(bytes);
        float[] known = recentEmbeddings.get(hash);
        if (known != null) {
            embeddingsReused.inc();
            return CompletableFuture.completedFuture(EmbeddingOutcome.embedded(change, known, hash));
        }
        return batcher.submit(bytes).thenApply(result -> {
            if (result.isSuccess()) {
                recentEmbeddings.put(hash, result.vector());
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
            return EmbeddingOutcome.failed(change, "fetch", fetchError.reason().name(),
                    "product " + change.productId() + ": " + fetchError.getMessage(), fetchError, fetchError.retryable());
        }
        return EmbeddingOutcome.failed(change, "embed", "EMBEDDING_FAILED",
                "embedding the image " + change.imageUrl() + " of product " + change.productId() + " failed: " + cause, cause, false);
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws Exception {
        if (batcher != null) batcher.close();
        if (downloads != null) downloads.shutdownNow();
        if (embedder != null) embedder.close();
    }
}
