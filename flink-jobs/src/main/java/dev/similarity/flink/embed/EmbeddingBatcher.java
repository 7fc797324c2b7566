package dev.similarity.flink.embed;

import dev.similarity.embedding.EmbeddingResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Groups images from many concurrent requests into micro-batches for the model: a batch runs when
 * it holds {@code maxBatchSize} images or its oldest image has waited {@code maxWait}. One thread
 * calls the model, so the model needs no locking.
 */
public final class EmbeddingBatcher implements AutoCloseable {

    /** Receives the size and the model time of every batch (metrics). */
    public interface BatchListener {
        void onBatch(int size, long nanos);
    }

    private record Pending(byte[] image, CompletableFuture<EmbeddingResult> result) {}

    private final Function<List<byte[]>, List<EmbeddingResult>> model;
    private final int maxBatchSize;
    private final long maxWaitNanos;
    private final BatchListener listener;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread worker;
    private volatile boolean closed;

    public EmbeddingBatcher(Function<List<byte[]>, List<EmbeddingResult>> model, int maxBatchSize,
                            Duration maxWait, BatchListener listener, String threadName) {
        if (maxBatchSize < 1) throw new IllegalArgumentException("embedding.batch-size must be at least 1, was " + maxBatchSize);
        this.model = model;
        this.maxBatchSize = maxBatchSize;
        this.maxWaitNanos = maxWait.toNanos();
        this.listener = listener;
        this.worker = new Thread(this::run, threadName);
        this.worker.setDaemon(true);
        this.worker.start();
    }

    public CompletableFuture<EmbeddingResult> submit(byte[] image) {
        CompletableFuture<EmbeddingResult> result = new CompletableFuture<>();
        if (closed) {
            result.completeExceptionally(new IllegalStateException("embedding batcher is closed"));
        } else {
            queue.add(new Pending(image, result));
        }
        return result;
    }

    private void run() {
        List<Pending> batch = new ArrayList<>(maxBatchSize);
        while (!closed) {
            try {
                Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                long deadline = System.nanoTime() + maxWaitNanos;
                while (batch.size() < maxBatchSize) {
                    long left = deadline - System.nanoTime();
                    Pending next = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
                    if (next == null) {
                        break;
                    }
                    batch.add(next);
                }
                runBatch(batch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } finally {
                batch.clear();
            }
        }
        failRemaining();
    }

    private void runBatch(List<Pending> batch) {
        List<byte[]> images = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            images.add(p.image());
        }
        long start = System.nanoTime();
        try {
            List<EmbeddingResult> results = model.apply(images);
            listener.onBatch(batch.size(), System.nanoTime() - start);
            for (int i = 0; i < batch.size(); i++) {
                batch.get(i).result().complete(results.get(i));
            }
        } catch (RuntimeException | Error e) {
            for (Pending p : batch) {
                p.result().completeExceptionally(e);
            }
        }
    }

    private void failRemaining() {
        Pending p;
        while ((p = queue.poll()) != null) {
            p.result().completeExceptionally(new IllegalStateException("embedding batcher closed before this image ran"));
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        worker.interrupt();
        worker.join(10_000);
        failRemaining();
    }
}
