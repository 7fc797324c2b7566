package dev.similarity.flink.index;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.IndexerOptions;
import dev.similarity.index.ImageMember;
import dev.similarity.index.tools.ClusteredUnitVectors;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * What one new image costs a shard (thread CPU time, index searches, candidates sent, low-bar nodes
 * checked) as the shard grows: one shard owning every image, clustered 128-d vectors of uneven density,
 * measured over blocks of writes at each catalogue size in {@code -Dbench.reverse.sizes} (default
 * 5000,40000). Run by hand:
 * <pre>mvn -pl flink-jobs test -Dtest=ReverseUpdateCostBenchmark -Dbench.reverse=true</pre>
 * The probe window is set to 1,000 here: its cost is fixed (one dot product per remembered search),
 * and measuring it at 20,000 would hide what grows.
 */
@EnabledIfSystemProperty(named = "bench.reverse", matches = "true")
class ReverseUpdateCostBenchmark {

    private static final int DIM = 128;
    private static final int BLOCK = 1_000;

    @TempDir Path work;

    @Test
    void costPerNewImageAtTwoCatalogueSizes() throws Exception {
        int[] sizes = Arrays.stream(System.getProperty("bench.reverse.sizes", "5000,40000").split(","))
                .mapToInt(Integer::parseInt).toArray();
        Map<String, String> settings = new HashMap<>(Map.of(IndexerOptions.SNAPSHOT_DIR.key(), work.toUri().toString(),
                IndexerOptions.SHARDS.key(), "1", IndexerOptions.PROBE_WINDOW.key(), "1000"));
        ShardRouting routing = new ShardRouting(1, 128);
        ShardIndexFunction function = new ShardIndexFunction(IndexerConfig.from(settings), routing, DIM, "bench@1");
        ClusteredUnitVectors dense = new ClusteredUnitVectors(DIM, 20, 0.6, 5);
        ClusteredUnitVectors sparse = new ClusteredUnitVectors(DIM, 20, 1.6, 6);
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        try (var harness = new KeyedOneInputStreamOperatorTestHarness<>(new ShardIndexOperator(function),
                ShardMessage::routingKey, Types.INT)) {
            harness.open();
            int written = 0;
            for (int size : sizes) {
                ShardIndexFunction.ReverseUpdateCounts start = null;
                long startCpu = 0;
                for (; written < size + BLOCK; written++) {
                    if (written == size) {
                        start = function.reverseUpdateCounts();
                        startCpu = cpu.getCurrentThreadCpuTime();
                    }
                    String image = "i" + written;
                    float[] vector = written % 3 == 0 ? sparse.next() : dense.next();
                    harness.processElement(new ShardMessage(routing.keyOf(0), 0, 1, 0, ShardMessage.Type.IMAGE_ADDED, image, 1,
                            vector, "p" + written, new ImageMember("p" + written, image, 0, null, null), 0), 0);
                    harness.getOutput().clear();
                }
                ShardIndexFunction.ReverseUpdateCounts after = function.reverseUpdateCounts();
                double n = after.images() - start.images();
                System.out.printf("shard of %,d images: per new image %.3f ms CPU, %.2f index searches, %.1f candidates sent, %.0f low-bar nodes checked%n",
                        size, (cpu.getCurrentThreadCpuTime() - startCpu) / 1e6 / n, (after.searches() - start.searches()) / n,
                        (after.candidates() - start.candidates()) / n, (after.lowBarChecks() - start.lowBarChecks()) / n);
            }
        }
    }
}
