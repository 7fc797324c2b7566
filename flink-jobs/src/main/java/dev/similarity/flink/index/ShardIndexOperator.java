package dev.similarity.flink.index;

import org.apache.flink.streaming.api.operators.KeyedProcessOperator;

/**
 * The operator that runs a {@link ShardIndexFunction}: a {@link KeyedProcessOperator} (keyed by shard)
 * that also gives the function its {@link ListedBy} records, keyed state namespaced by image, which a
 * function alone cannot declare. The job and the test harnesses run the function through it.
 */
public final class ShardIndexOperator extends KeyedProcessOperator<Integer, ShardMessage, ListMessage> {

    private static final long serialVersionUID = 1L;

    private final ShardIndexFunction function;

    public ShardIndexOperator(ShardIndexFunction function) {
        super(function);
        this.function = function;
    }

    @Override
    public void open() throws Exception {
        function.useListedBy(new ListedBy(this)); // before the function's open, which checks it
        super.open();
    }
}
