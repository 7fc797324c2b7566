package dev.similarity.flink;

import dev.similarity.flink.demo.DemoCatalogue;
import dev.similarity.flink.demo.DemoImageServer;
import dev.similarity.flink.demo.DemoRun;
import dev.similarity.kafka.local.LocalKafkaBroker;

import java.nio.file.Path;
import java.util.Map;

/**
 * The real parts an IT runs the job on: a Kafka broker in a child JVM (its data in {@code work/kafka}), the
 * demo catalogue's images over HTTP, and the job on a Flink mini-cluster ({@link DemoRun}, in {@code work})
 * with the given option settings. Closed in reverse order; a part that fails to start closes those before it.
 */
final class LoopbackJob implements AutoCloseable {

    final LocalKafkaBroker broker;
    final DemoCatalogue catalogue;
    final DemoImageServer images;
    final DemoRun run;

    private LoopbackJob(LocalKafkaBroker broker, DemoCatalogue catalogue, DemoImageServer images, DemoRun run) {
        this.broker = broker;
        this.catalogue = catalogue;
        this.images = images;
        this.run = run;
    }

    /**
     * @param name     the job's name, also its topics' and state's prefix
     * @param settings job options ({@code IndexerOptions} keys) over the demo's defaults
     */
    static LoopbackJob start(Path work, String name, Map<String, String> settings) throws Exception {
        LocalKafkaBroker broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build().start();
        DemoImageServer images = null;
        try {
            DemoCatalogue catalogue = new DemoCatalogue();
            images = new DemoImageServer(catalogue, 0);
            return new LoopbackJob(broker, catalogue, images, new DemoRun(catalogue, images, broker.bootstrapServers(), work, name, -1,
                    settings));
        } catch (Exception | Error e) {
            if (images != null) images.close();
            broker.close();
            throw e;
        }
    }

    @Override
    public void close() throws Exception {
        try {
            run.close();
        } finally {
            images.close();
            broker.close();
        }
    }
}
