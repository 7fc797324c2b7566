package dev.similarity.flink.upgrade;

import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.state.CompletedCheckpointStorageLocation;
import org.apache.flink.runtime.state.filesystem.AbstractFsCheckpointStorageAccess;
import org.apache.flink.shaded.guava33.com.google.common.hash.Hashing;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * The uids of a model's operators (embed, product images, image sharers, shards, gather, list
 * publisher). The first model of a job has the plain uids it always had, so savepoints from before
 * model upgrades keep restoring; a model that came in by an upgrade has its operators' uids suffixed
 * with {@code @<qualified model id>}, beside the previous model's, and keeps them after the switch.
 * Which of the two a restored model has is read from the savepoint's metadata (which operators it holds
 * state for), so a restart after the switch needs only {@code embedding.model-dir}.
 */
public final class ModelUids {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ModelUids.class);

    /** The operator whose state every model has (its products). */
    public static final String PRODUCT_IMAGES = "product-images";

    private ModelUids() {}

    /** The suffix of the uids of a model brought in by an upgrade. */
    public static String upgradeSuffix(String qualifiedModelId) {
        return "@" + qualifiedModelId;
    }

    /**
     * The uid suffix of {@code qualifiedModelId}'s operators in the job about to start: its upgrade
     * suffix if the savepoint or checkpoint the job resumes from ({@code execution.state-recovery.path})
     * holds state under it, else none.
     *
     * A savepoint whose metadata cannot be read here counts as one without (logged).
     */
    public static String suffixOf(String qualifiedModelId, ReadableConfig runtime) {
        String path = runtime.get(StateRecoveryOptions.SAVEPOINT_PATH);
        if (path == null || path.isBlank()) {
            return "";
        }
        String suffix = upgradeSuffix(qualifiedModelId);
        return operatorsWithState(path).contains(operatorId(PRODUCT_IMAGES + suffix)) ? suffix : "";
    }

    /** The operators a savepoint or retained checkpoint holds state for. */
    static Set<OperatorID> operatorsWithState(String pointer) {
        try {
            CompletedCheckpointStorageLocation location = AbstractFsCheckpointStorageAccess.resolveCheckpointPointer(pointer);
            CheckpointMetadata metadata;
            try (DataInputStream in = new DataInputStream(location.getMetadataHandle().openInputStream())) {
                metadata = Checkpoints.loadCheckpointMetadata(in, ModelUids.class.getClassLoader(), pointer);
            }
            Set<OperatorID> ids = new HashSet<>();
            for (OperatorState state : metadata.getOperatorStates()) {
                if (state.getStateSize() > 0 || !state.getSubtaskStates().isEmpty()) ids.add(state.getOperatorID());
            }
            return ids;
        } catch (IOException e) {
            // Where main() runs without access to the checkpoint storage, Flink's restore decides: with the
            // plain uids a model's state from an upgrade is not found, and the job fails naming its operators.
            LOG.warn("cannot read the operators of the savepoint {} (execution.state-recovery.path); assuming the model's"
                    + " operators have their plain uids: {}", pointer, e.toString());
            return Set.of();
        }
    }

    /** The operator id Flink derives from a uid (StreamGraphHasherV2: murmur3_128, seed 0, of the uid's UTF-8). */
    static OperatorID operatorId(String uid) {
        return new OperatorID(Hashing.murmur3_128(0).newHasher().putString(uid, StandardCharsets.UTF_8).hash().asBytes());
    }
}
