package dev.similarity.flink.embed;

import dev.similarity.embedding.EmbeddingResult;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class EmbeddingBatcherTest {

    private static List<EmbeddingResult> lengths(List<byte[]> images) {
        List<EmbeddingResult> results = new ArrayList<>();
        for (byte[] image : images) {
            results.add(EmbeddingResult.success(new float[] {image.length}));
        }
        return results;
    }

    @Test
    void groupsConcurrentRequestsIntoBatchesOfAtMostTheLimit() throws Exception {
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        try (EmbeddingBatcher batcher = new EmbeddingBatcher(EmbeddingBatcherTest::lengths, 8, Duration.ofMillis(200),
                (size, nanos) -> sizes.add(size), "test-batcher")) {
            List<CompletableFuture<EmbeddingResult>> results = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                results.add(batcher.submit(new byte[i]));
            }
            for (int i = 0; i < 20; i++) {
                assertThat(results.get(i).get(5, TimeUnit.SECONDS).vector()).containsExactly((float) i);
            }
        }
        assertThat(sizes).allSatisfy(size -> assertThat(size).isLessThanOrEqualTo(8));
        assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(20);
        assertThat(sizes).contains(8);
    }

    @Test
    void runsAPartialBatchOnceTheOldestImageHasWaitedMaxWait() throws Exception {
        try (EmbeddingBatcher batcher = new EmbeddingBatcher(EmbeddingBatcherTest::lengths, 64, Duration.ofMillis(20),
                (size, nanos) -> {}, "test-batcher")) {
            long start = System.nanoTime();
            assertThat(batcher.submit(new byte[3]).get(5, TimeUnit.SECONDS).vector()).containsExactly(3f);
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2_000);
        }
    }

    @Test
    void aFailingModelFailsOnlyItsBatch() throws Exception {
        try (EmbeddingBatcher batcher = new EmbeddingBatcher(images -> {
            if (images.get(0).length == 0) throw new IllegalStateException("model broke");
            return lengths(images);
        }, 1, Duration.ofMillis(1), (size, nanos) -> {}, "test-batcher")) {
            assertThat(batcher.submit(new byte[0])).failsWithin(5, TimeUnit.SECONDS);
            assertThat(batcher.submit(new byte[2]).get(5, TimeUnit.SECONDS).vector()).containsExactly(2f);
        }
    }
}
