package dev.similarity.flink.demo;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.flink.SimilarityIndexerJob;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DemoArgsTest {

    private static final String USAGE = "usage";

    @Test
    void clusterDemoParallelismIsTheParallelismOfEveryOperatorOfTheSubmittedJob() {
        DemoArgs args = DemoArgs.parse(new String[] {"--cluster", "http://127.0.0.1:8081", "--parallelism", "3"}, USAGE);

        // What the cluster does with a submission: the REST "parallelism" becomes parallelism.default,
        // then the job's main builds the graph from its program arguments (the demo's settings).
        Configuration submitted = new Configuration();
        submitted.set(CoreOptions.DEFAULT_PARALLELISM, args.cluster().parallelism());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(submitted);
        SimilarityIndexerJob.build(env, IndexerConfig.from(args.settings()));

        assertThat(env.getStreamGraph().getStreamNodes()).extracting(StreamNode::getParallelism).containsOnly(3);
    }

    @Test
    void parallelismThatContradictsTheSetOptionIsRefused() {
        assertThatThrownBy(() -> DemoArgs.parse(new String[] {"--set", "indexer.parallelism=4", "--parallelism", "3"}, USAGE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--parallelism 3 contradicts --set indexer.parallelism=4");
    }

    @Test
    void parallelismEqualToTheSetOptionIsAccepted() {
        DemoArgs args = DemoArgs.parse(new String[] {"--set", "indexer.parallelism=3", "--parallelism", "3"}, USAGE);

        assertThat(args.settings()).containsEntry("indexer.parallelism", "3");
    }

    @Test
    void resumingWithoutALastingBrokerIsRefusedNamingTheFix() {
        assertThatThrownBy(() -> DemoArgs.parse(new String[] {"--from-savepoint", "file:///tmp/chk-7"}, USAGE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--from-savepoint needs --bootstrap-servers").hasMessageContaining("scripts/kafka-local start");
    }

    @Test
    void theLocalDemoResumesFromASavepointOnALastingBroker() {
        DemoArgs args = DemoArgs.parse(new String[] {"--bootstrap-servers", "127.0.0.1:9092", "--run-name", "shop",
            "--from-savepoint", "file:///tmp/chk-7", "--first", "300"}, USAGE);

        assertThat(args.cluster().url()).isNull();
        assertThat(args.cluster().fromSavepoint()).isEqualTo("file:///tmp/chk-7");
        assertThat(args.cluster().first()).isEqualTo(300);
    }

    @Test
    void eventsCarryEmbeddingsOnlyWhenAsked() {
        assertThat(DemoArgs.parse(new String[] {"--products", "5"}, USAGE).embeddedEvents()).isFalse();
        assertThat(DemoArgs.parse(new String[] {"--embedded-events", "--products", "5"}, USAGE).embeddedEvents()).isTrue();
    }
}
