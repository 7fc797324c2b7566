package dev.similarity.flink.index;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeutils.base.StringSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A shard's "listed-by" records: for each image c, the images whose lists may contain c because c was
 * in their partial list or beat their recent probe. Keyed state of the shard, namespaced by c: one list
 * per image, each record a {@link ListerIds} set appended without reading. RocksDB appends are merge
 * operands, so recording a lister costs a write whatever the set's size; the set is read only when c
 * leaves or changes representative (its records merged then, duplicates included: a set is what
 * callers get).
 *
 * <p>Why not a map of sets: a read and rewrite of c's growing set per lister was 42 % of a shard's
 * per-image work at 10^6 products, most of it waiting on RocksDB reads (docs/capacity.md).
 *
 * <p>Used from the shard's thread only, with the current key set to the shard (the operator's
 * processElement and timers).
 */
final class ListedBy {

    private final AbstractStreamOperator<?> operator;
    private final ListStateDescriptor<byte[]> descriptor =
            new ListStateDescriptor<>("listed-by-log", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);

    ListedBy(AbstractStreamOperator<?> operator) {
        this.operator = operator;
    }

    /** Records that the lists of {@code listers} may contain image {@code image}: one append, no read. */
    void add(String image, Collection<String> listers) throws Exception {
        if (!listers.isEmpty()) {
            state(image).add(ListerIds.withAll(null, listers));
        }
    }

    /** Every image recorded as a lister of {@code image}, once each, in the order recorded; empty if none. */
    Set<String> listers(String image) throws Exception {
        Set<String> listers = new LinkedHashSet<>();
        Iterable<byte[]> records = state(image).get();
        if (records != null) {
            for (byte[] record : records) listers.addAll(ListerIds.decode(record));
        }
        return listers;
    }

    /** Forgets every record of {@code image} (it left the shard). */
    void clear(String image) throws Exception {
        state(image).clear();
    }

    private ListState<byte[]> state(String image) throws Exception {
        return operator.getPartitionedState(image, StringSerializer.INSTANCE, descriptor);
    }
}
