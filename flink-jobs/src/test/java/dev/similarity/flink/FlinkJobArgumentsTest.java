package dev.similarity.flink;

import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Flink's own job-level options given as job arguments, as operators pass them to {@code flink run}. */
class FlinkJobArgumentsTest {

    @Test
    void aSavepointGivenAsAJobArgumentIsWhereTheJobResumes() {
        IndexerConfig config = IndexerConfig.from(SimilarityIndexerJob.parseArgs(new String[] {
            "--execution.state-recovery.path", "file:///tmp/savepoints/savepoint-1f2e3d",
            "--execution.state-recovery.ignore-unclaimed-state", "true",
        }));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(SimilarityIndexerJob.runtimeConfiguration(config));
        SimilarityIndexerJob.build(env, config);
        StreamGraph graph = env.getStreamGraph();

        assertThat(graph.getSavepointRestoreSettings().getRestorePath()).isEqualTo("file:///tmp/savepoints/savepoint-1f2e3d");
        assertThat(graph.getSavepointRestoreSettings().allowNonRestoredState()).isTrue();
    }

    @Test
    void flinkOptionsGivenAsArgumentsOverrideTheJobsDefaults() {
        IndexerConfig config = IndexerConfig.from(SimilarityIndexerJob.parseArgs(new String[] {
            "--execution.checkpointing.interval", "7 s", "--parallelism.default", "3",
        }));
        var runtime = SimilarityIndexerJob.runtimeConfiguration(config);
        assertThat(runtime.toMap()).containsEntry("execution.checkpointing.interval", "7 s").containsEntry("parallelism.default", "3");
    }

    @Test
    void aMisspeltFlinkOptionIsStillRefused() {
        assertThatThrownBy(() -> IndexerConfig.from(SimilarityIndexerJob.parseArgs(new String[] {
            "--execution.state-recovery.pth", "file:///tmp/savepoints/savepoint-1f2e3d",
        }))).isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("unknown option 'execution.state-recovery.pth'")
                .hasMessageContaining("Flink's job-level options");
    }

    @Test
    void clusterLevelOptionsAreNotTheJobsToSet() {
        assertThatThrownBy(() -> IndexerConfig.from(SimilarityIndexerJob.parseArgs(new String[] {"--taskmanager.memory.process.size", "4g"})))
                .hasMessageContaining("unknown option 'taskmanager.memory.process.size'");
    }
}
