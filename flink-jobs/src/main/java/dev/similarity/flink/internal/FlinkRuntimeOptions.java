package dev.similarity.flink.internal;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExecutionOptions;
import org.apache.flink.configuration.FallbackKey;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.apache.flink.state.rocksdb.RocksDBOptions;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Set;
import java.util.TreeSet;

/**
 * Flink's own options that a job may set for itself, e.g. {@code execution.state-recovery.path} to
 * resume from a savepoint when the job is started with {@code flink run ... --execution.state-recovery.path s3://...}.
 * The keys are read from Flink's option classes, so a misspelt one is still refused as unknown.
 * Cluster-level options (memory, ports, slots) are not among them: a job cannot change those.
 */
public final class FlinkRuntimeOptions {

    private static final Class<?>[] JOB_LEVEL = {
        StateRecoveryOptions.class, CheckpointingOptions.class, StateBackendOptions.class, RocksDBOptions.class,
        RocksDBConfigurableOptions.class, ExecutionOptions.class, PipelineOptions.class, RestartStrategyOptions.class,
    };

    /** Every key (and deprecated or fallback key) of the job-level option classes, plus {@code parallelism.default}. */
    public static final Set<String> KEYS = collectKeys();

    private FlinkRuntimeOptions() {}

    public static boolean isJobLevel(String key) {
        return KEYS.contains(key);
    }

    private static Set<String> collectKeys() {
        Set<String> keys = new TreeSet<>();
        keys.add(CoreOptions.DEFAULT_PARALLELISM.key());
        for (Class<?> holder : JOB_LEVEL) {
            for (Field field : holder.getFields()) {
                if (!Modifier.isStatic(field.getModifiers()) || !ConfigOption.class.isAssignableFrom(field.getType())) continue;
                try {
                    ConfigOption<?> option = (ConfigOption<?>) field.get(null);
                    keys.add(option.key());
                    for (FallbackKey fallback : option.fallbackKeys()) keys.add(fallback.getKey());
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return Set.copyOf(keys);
    }
}
