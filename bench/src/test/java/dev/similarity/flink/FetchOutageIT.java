package dev.similarity.flink;

import dev.similarity.flink.deadletter.DeadLetterRedrive;
import dev.similarity.flink.demo.CatalogueFeeder;
import dev.similarity.flink.demo.DemoCatalogue;
import dev.similarity.flink.demo.DemoImageServer;
import dev.similarity.flink.demo.DemoRun;
import dev.similarity.kafka.local.LocalKafkaBroker;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Image hosts failing the way partners' hosts do, on the real path (broker, mini-cluster, model):
 * an outage answered with 503 while products keep arriving, a host that accepts connections and
 * never answers, and dead letters fed back in once their images are fine. Retry settings are
 * shortened so the test takes seconds; scripts/bench-outage runs the 60 s outage at default settings.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FetchOutageIT {

    @TempDir
    static Path work;

    private LocalKafkaBroker broker;
    private DemoCatalogue catalogue;
    private DemoImageServer images;
    private ServerSocket hungHost;
    private final List<Socket> hungConnections = new CopyOnWriteArrayList<>();
    private DemoRun run;
    private CatalogueFeeder feeder;

    @BeforeAll
    void start() throws Exception {
        broker = LocalKafkaBroker.builder().dataDir(work.resolve("kafka")).port(0).build();
        broker.start();
        catalogue = new DemoCatalogue();
        images = new DemoImageServer(catalogue, 0);
        // Accepts connections and never answers a byte.
        hungHost = new ServerSocket(0, 500, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!hungHost.isClosed()) {
                try {
                    hungConnections.add(hungHost.accept());
                } catch (IOException e) {
                    return;
                }
            }
        });
        Map<String, String> settings = new HashMap<>();
        settings.put("fetch.trusted-origins", images.baseUrl() + ";http://127.0.0.1:" + hungHost.getLocalPort());
        // Download deadlines at their defaults (20 s total, 5 s per read, 3 s to connect or find a free connection).
        settings.put("fetch.retry.initial-backoff", "PT0.5S");
        settings.put("fetch.retry.max-backoff", "PT3S");
        settings.put("fetch.retry.horizon", "PT40S");
        run = new DemoRun(catalogue, images, broker.bootstrapServers(), work, "outage", -1, settings);
        feeder = new CatalogueFeeder(broker.bootstrapServers(), run.config().get(IndexerOptions.CATALOGUE_TOPIC), AvroWireFormat.NAKED_BINARY);
    }

    @AfterAll
    void stop() throws Exception {
        if (feeder != null) feeder.close();
        if (run != null) run.close();
        if (hungHost != null) hungHost.close();
        for (Socket s : hungConnections) s.close();
        if (images != null) images.close();
        if (broker != null) broker.close();
    }

    private void feed(int first, int n, double perSecond) throws InterruptedException {
        for (int i = first; i < first + n; i++) {
            feeder.upsert(catalogue.productId(i), images.imageUrl(i), "c", 1, false);
            if (perSecond > 0) Thread.sleep((long) (1000 / perSecond));
        }
        feeder.flush();
    }

    private boolean listed(int first, int n) {
        Set<String> keys = run.lists().keysSeen();
        for (int i = first; i < first + n; i++) {
            if (!keys.contains(catalogue.productId(i))) return false;
        }
        return true;
    }

    @Test
    @Order(1)
    void anOutageDuringASteadyStreamEndsWithEveryProductListedAndNoDeadLetter() throws Exception {
        feed(0, 100, 0);
        waitFor(() -> listed(0, 100), 180_000);
        images.outage(true);
        feed(100, 150, 15);                    // 10 s of products while every image answers 503
        images.outage(false);
        long back = System.currentTimeMillis();
        waitFor(() -> listed(0, 250), 60_000);
        long recovered = System.currentTimeMillis() - back;
        System.out.println("all 250 listed " + recovered + " ms after the host came back");
        assertThat(listed(0, 250)).as("every product listed after the outage").isTrue();
        assertThat(run.deadLetters().records()).as("dead letters").isZero();
    }

    @Test
    @Order(2)
    void aHungHostDelaysNeitherCheckpointsNorOtherProductsLists() throws Exception {
        String hung = "http://127.0.0.1:" + hungHost.getLocalPort() + "/image-";
        List<Long> latencies = new ArrayList<>();
        // 50 products/s on the hung host for 6 s, far beyond what its connections can hold, beside 10/s on a good one.
        for (int i = 0; i < 60; i++) {
            for (int j = 0; j < 5; j++) {
                feeder.upsert("hung-" + i + "-" + j, hung + i + "-" + j + ".png", "c", 1, false);
            }
            feeder.upsert(catalogue.productId(300 + i), images.imageUrl(300 + i), "c", 1, false);
            feeder.flush();
            Thread.sleep(100);
        }
        long fed = System.currentTimeMillis();
        waitFor(() -> listed(300, 60), 60_000);
        long took = System.currentTimeMillis() - fed;
        System.out.println("60 good products listed " + took + " ms after the last was fed, beside 300 on a hung host");
        assertThat(listed(300, 60)).isTrue();
        // Lists are committed on checkpoints only: they could not appear this soon if checkpoints stalled.
        assertThat(took).isLessThan(15_000);
    }

    @Test
    @Order(3)
    void deadLettersFedBackInAreListedOnceTheirImagesAreFine() throws Exception {
        for (int i = 0; i < 5; i++) {
            feeder.upsert("late-" + i, images.baseUrl() + "/late-" + i + ".png", "c", 1, false);
        }
        feeder.flush();
        waitFor(() -> List.of("late-0", "late-1", "late-2", "late-3", "late-4").stream()
                .allMatch(id -> !run.deadLetters().history(id).isEmpty()), 60_000);
        AvroRecordCodec<DeadLetter> codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        assertThat(run.deadLetters().history("late-0")).isNotEmpty();
        assertThat(codec.decode(run.deadLetters().history("late-0").get(0).value()).getErrorMessage()).contains("HTTP_CLIENT_ERROR");
        for (int i = 0; i < 5; i++) {
            images.put("/late-" + i + ".png", catalogue.png(400 + i));
        }
        DeadLetterRedrive.Result result = DeadLetterRedrive.redrive(broker.bootstrapServers(),
                run.config().get(IndexerOptions.DEAD_LETTER_TOPIC), run.config().get(IndexerOptions.FETCH_RETRY_TOPIC),
                new DeadLetterRedrive.Selection(Set.of("IMAGE_UNREACHABLE"), Set.of(), Set.of("late-0", "late-1", "late-2", "late-3", "late-4"), null),
                false);
        assertThat(result.redriven()).isEqualTo(5);
        waitFor(() -> run.lists().keysSeen().containsAll(List.of("late-0", "late-1", "late-2", "late-3", "late-4")), 60_000);
        assertThat(run.lists().keysSeen()).contains("late-0", "late-1", "late-2", "late-3", "late-4");
    }

    private static void waitFor(BooleanSupplier condition, long timeoutMs) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (!condition.getAsBoolean() && System.currentTimeMillis() < deadline) Thread.sleep(200);
    }
}
