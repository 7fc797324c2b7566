package dev.similarity.flink;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deployment/flink/similarity-indexer.yaml says what the job really reads: its arguments are options
 * of IndexerOptions with values the job accepts, and its flinkConfiguration sets nothing the job sets
 * itself (the job's value would win and the manifest would mislead), except the checkpoint directory
 * the Kubernetes operator needs there, which must be the one the job is given.
 */
class DeploymentManifestTest {

    private static final Path MANIFEST = Path.of("..", "deployment", "flink", "similarity-indexer.yaml");
    /** Namespaces of the job's own options: the job never reads them from the cluster's configuration. */
    private static final List<String> JOB_OPTION_PREFIXES =
            List.of("kafka.", "catalogue.", "neighbours.", "index.", "embedding.", "fetch.", "indexer.", "snapshot.");

    private static Map<String, Object> flinkConfiguration;
    private static Map<String, String> jobArgs;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void read() throws Exception {
        Map<String, Object> manifest = (Map<String, Object>) new Load(LoadSettings.builder().build())
                .loadFromString(Files.readString(MANIFEST));
        Map<String, Object> spec = (Map<String, Object>) manifest.get("spec");
        flinkConfiguration = (Map<String, Object>) spec.get("flinkConfiguration");
        List<String> args = new ArrayList<>();
        ((List<Object>) ((Map<String, Object>) spec.get("job")).get("args")).forEach(a -> args.add(String.valueOf(a)));
        jobArgs = SimilarityIndexerJob.parseArgs(args.toArray(String[]::new));
    }

    /** The job's configuration from the manifest's arguments; the model folder is in the image, the committed one stands in here. */
    private static IndexerConfig jobConfig() {
        Map<String, String> here = new HashMap<>(jobArgs);
        assertThat(here.get(IndexerOptions.MODEL_DIR.key())).as("the model folder in the image").startsWith("/");
        here.put(IndexerOptions.MODEL_DIR.key(),
                EmbeddingModelDescriptor.findCommitted(Path.of("")).orElseThrow().toAbsolutePath().toString());
        return IndexerConfig.from(here);
    }

    @Test
    void theJobsArgumentsAreOptionsItReadsWithValuesItAccepts() {
        IndexerConfig config = jobConfig();

        assertThat(config.snapshotDir()).as("snapshot.dir").startsWith("s3://");
        assertThat(jobArgs).containsKeys(IndexerOptions.CHECKPOINT_DIR.key(), IndexerOptions.CHECKPOINT_INTERVAL.key(),
                IndexerOptions.SNAPSHOT_DIR.key(), IndexerOptions.KAFKA_BOOTSTRAP_SERVERS.key(), IndexerOptions.MODEL_DIR.key());
    }

    @Test
    void theClusterConfigurationHoldsNoJobOption() {
        assertThat(flinkConfiguration.keySet())
                .as("job options in flinkConfiguration are never read by the job; pass them in job.args")
                .noneMatch(key -> JOB_OPTION_PREFIXES.stream().anyMatch(key::startsWith));
    }

    @Test
    void theClusterConfigurationSetsNothingTheJobSetsItselfButTheSameCheckpointDirectory() {
        Set<String> setByTheJob = SimilarityIndexerJob.runtimeConfiguration(jobConfig()).toMap().keySet();
        String checkpointDir = "execution.checkpointing.dir";
        assertThat(setByTheJob).contains(checkpointDir, "execution.checkpointing.interval");

        assertThat(flinkConfiguration.keySet())
                .as("set by the job from its options, which win: keep them in job.args only")
                .noneMatch(key -> setByTheJob.contains(key) && !key.equals(checkpointDir));
        assertThat(flinkConfiguration.get(checkpointDir)).as("the operator's checkpoint directory is the job's")
                .isEqualTo(jobArgs.get(IndexerOptions.CHECKPOINT_DIR.key()));
    }
}
