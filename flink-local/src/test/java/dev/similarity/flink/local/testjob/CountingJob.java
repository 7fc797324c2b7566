package dev.similarity.flink.local.testjob;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * The job that {@code LocalFlinkClusterITCase} packs into a jar and submits through the REST API:
 * a sequence of numbers, throttled, counted per key in RocksDB state, checkpointed.
 *
 * <p>Arguments: {@code [--records N]} (0: unbounded; default 1000), {@code [--sleep-ms MS]} per record
 * and subtask (default 0), {@code [--checkpoint-ms MS]} (default 500).
 */
public final class CountingJob {

  private CountingJob() {}

  public static void main(String[] args) throws Exception {
    long records = 1000;
    long sleepMs = 0;
    long checkpointMs = 500;
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--records" -> records = Long.parseLong(args[i + 1]);
        case "--sleep-ms" -> sleepMs = Long.parseLong(args[i + 1]);
        case "--checkpoint-ms" -> checkpointMs = Long.parseLong(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.enableCheckpointing(checkpointMs);
    env.fromSequence(0, records == 0 ? Long.MAX_VALUE : records - 1)
        .map(new Throttle(sleepMs)).name("throttle")
        .keyBy(new KeyByRemainder())
        .map(new CountPerKey()).name("count per key")
        .sinkTo(new DiscardingSink<>()).name("discard");
    env.execute("flink-local counting job");
  }

  /** Sleeps before passing each number on, so an unbounded run costs little CPU. */
  static final class Throttle implements MapFunction<Long, Long> {
    private final long sleepMs;

    Throttle(long sleepMs) {
      this.sleepMs = sleepMs;
    }

    @Override
    public Long map(Long value) throws Exception {
      if (sleepMs > 0) Thread.sleep(sleepMs);
      return value;
    }
  }

  static final class KeyByRemainder implements KeySelector<Long, Long> {
    @Override
    public Long getKey(Long value) {
      return value % 16;
    }
  }

  /** Counts the numbers seen per key in keyed (RocksDB) state and emits the running count. */
  static final class CountPerKey extends RichMapFunction<Long, Long> {
    private transient ValueState<Long> count;

    @Override
    public void open(OpenContext context) {
      count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Long.class));
    }

    @Override
    public Long map(Long value) throws Exception {
      long next = (count.value() == null ? 0 : count.value()) + 1;
      count.update(next);
      return next;
    }
  }
}
