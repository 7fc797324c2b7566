package dev.similarity.flink.index;

import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What recording listers costs a shard's RocksDB state as the shard grows: each new image is recorded
 * as the lister of 20 earlier images drawn at random (a partial list's images, as the churn writes
 * them), once as {@link ListedBy} appends (today) and once as the read and rewrite of each image's
 * {@link ListerIds} set (the state before it), in two harnesses of one JVM, one after the other. Wall
 * time per lister record over each block of images. RocksDB here runs with the test harness's settings,
 * not the job's memory (1.5 GB per slot at 10^6), so the absolute figures are not the job's; what it
 * shows is how each way's cost moves as the sets grow. Run by hand (about 3 minutes):
 * <pre>mvn -pl flink-jobs test -Dtest=ListedByCostBenchmark -Dbench.listers=true [-Dbench.listers.images=20000]
 *   [-Dbench.listers.block=5000]</pre>
 */
@EnabledIfSystemProperty(named = "bench.listers", matches = "true")
class ListedByCostBenchmark {

    private static final int LISTERS_PER_IMAGE = 20;
    private static final int BLOCK = Integer.getInteger("bench.listers.block", 5_000);

    /** An operator that only holds keyed state for the benchmark to write through. */
    static final class StateHolder extends AbstractStreamOperator<Void> implements OneInputStreamOperator<Integer, Void> {
        @Override
        public void processElement(StreamRecord<Integer> element) {}
    }

    /** Records {@code lister} under each image of {@code listed} (the images its partial list names). */
    interface Recorder {
        void record(String lister, List<String> listed) throws Exception;
    }

    @Test
    void aListerRecordIsAnAppendWhateverTheSetsHoldWhereTheReadAndRewriteGrowsWithThem() throws Exception {
        int images = Integer.getInteger("bench.listers.images", 20_000);
        run("appends (ListedBy)", images, holder -> {
            ListedBy log = new ListedBy(holder);
            return (lister, listed) -> {
                for (String image : listed) log.add(image, List.of(lister));
            };
        });
        run("read and rewrite (sets)", images, holder -> {
            MapState<String, byte[]> sets = holder.getPartitionedState(VoidNamespace.INSTANCE, VoidNamespaceSerializer.INSTANCE,
                    new MapStateDescriptor<>("listed-by", Types.STRING, PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
            return (lister, listed) -> {
                for (String image : listed) {
                    byte[] known = sets.get(image);
                    byte[] updated = ListerIds.withAll(known, List.of(lister));
                    if (updated != known) sets.put(image, updated);
                }
            };
        });
    }

    interface RecorderFactory {
        Recorder open(StateHolder holder) throws Exception;
    }

    private static void run(String name, int images, RecorderFactory factory) throws Exception {
        try (var harness = new KeyedOneInputStreamOperatorTestHarness<>(new StateHolder(), (Integer shard) -> shard, Types.INT)) {
            harness.setStateBackend(new EmbeddedRocksDBStateBackend());
            harness.open();
            StateHolder holder = (StateHolder) harness.getOperator();
            holder.setCurrentKey(0);
            Recorder recorder = factory.open(holder);
            SplittableRandom random = new SplittableRandom(42);
            long blockStart = System.nanoTime();
            List<String> listed = new ArrayList<>(LISTERS_PER_IMAGE);
            for (int i = 1; i <= images; i++) {
                listed.clear();
                String image = "i" + i;
                // Each new image is named by the partial lists of 20 earlier images: it records itself under each.
                for (int j = 0; j < LISTERS_PER_IMAGE; j++) listed.add("i" + (1 + random.nextInt(i)));
                recorder.record(image, listed);
                if (i % BLOCK == 0) {
                    long now = System.nanoTime();
                    System.out.printf("%-24s images %,9d: %,7.0f ns per lister record over the last %,d%n", name, i,
                            (now - blockStart) / (double) (BLOCK * LISTERS_PER_IMAGE), BLOCK);
                    blockStart = now;
                }
            }
        }
    }
}
