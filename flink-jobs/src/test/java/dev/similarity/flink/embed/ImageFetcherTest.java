package dev.similarity.flink.embed;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageFetcherTest {

    private static final byte[] IMAGE = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};

    private HttpServer server;
    private ExecutorService executor;
    private String base;

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/image.png", exchange -> respond(exchange, 200, IMAGE));
        server.createContext("/big.png", exchange -> respond(exchange, 200, new byte[4096]));
        server.createContext("/missing.png", exchange -> respond(exchange, 404, new byte[0]));
        server.createContext("/flaky.png", exchange -> respond(exchange, 503, new byte[0]));
        server.createContext("/redirect", exchange -> {
            exchange.getResponseHeaders().set("Location", "/image.png");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        server.createContext("/loop", exchange -> {
            exchange.getResponseHeaders().set("Location", "/loop");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();
        executor = Executors.newFixedThreadPool(2);
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
        executor.shutdownNow();
    }

    private static void respond(com.sun.net.httpserver.HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
        exchange.close();
    }

    private ImageFetcher fetcher(boolean allowPrivate, long maxBytes, Path fileRoot) {
        return new ImageFetcher(new ImageFetcher.Settings(maxBytes, Duration.ofSeconds(2), Duration.ofSeconds(2), 3,
                allowPrivate, fileRoot));
    }

    @Test
    void downloadsAnImageAndFollowsRedirectsWhenPrivateAddressesAreAllowed() throws Exception {
        assertThat(fetcher(true, 1024, null).fetch(base + "/image.png")).isEqualTo(IMAGE);
        assertThat(fetcher(true, 1024, null).fetch(base + "/redirect")).isEqualTo(IMAGE);
    }

    @Test
    void refusesLoopbackTargetsByDefault() {
        assertThatThrownBy(() -> fetcher(false, 1024, null).fetch(base + "/image.png"))
                .isInstanceOf(ImageFetchException.class)
                .hasMessageContaining("non-public address 127.0.0.1")
                .satisfies(e -> assertThat(((ImageFetchException) e).retryable()).isFalse());
    }

    @Test
    void refusesNumericHostSpellingsThatHideLoopback() {
        for (String host : new String[] {"2130706433", "0177.0.0.1", "0x7f.0.0.1"}) {
            assertThatThrownBy(() -> fetcher(true, 1024, null).fetch("http://" + host + ":" + server.getAddress().getPort() + "/image.png"))
                    .isInstanceOf(ImageFetchException.class)
                    .hasMessageContaining("refused")
                    .satisfies(e -> assertThat(((ImageFetchException) e).retryable()).isFalse());
        }
    }

    @Test
    void classifiesHttpErrorsAsPermanentOrTransient() {
        assertThatThrownBy(() -> fetcher(true, 1024, null).fetch(base + "/missing.png"))
                .isInstanceOf(ImageFetchException.class).hasMessageContaining("HTTP 404")
                .satisfies(e -> assertThat(((ImageFetchException) e).retryable()).isFalse());
        assertThatThrownBy(() -> fetcher(true, 1024, null).fetch(base + "/flaky.png"))
                .isInstanceOf(ImageFetchException.class).hasMessageContaining("HTTP 503")
                .satisfies(e -> assertThat(((ImageFetchException) e).retryable()).isTrue());
    }

    @Test
    void refusesImagesOverTheByteLimit() {
        assertThatThrownBy(() -> fetcher(true, 1000, null).fetch(base + "/big.png"))
                .isInstanceOf(ImageFetchException.class)
                .hasMessageContaining("over fetch.max-bytes (1000 bytes)")
                .satisfies(e -> assertThat(((ImageFetchException) e).reason()).isEqualTo(ImageFetchException.Reason.IMAGE_TOO_LARGE));
    }

    @Test
    void stopsFollowingRedirectsAtTheLimit() {
        assertThatThrownBy(() -> fetcher(true, 1024, null).fetch(base + "/loop"))
                .isInstanceOf(ImageFetchException.class).hasMessageContaining("fetch.max-redirects");
    }

    @Test
    void connectionRefusedIsRetryable() {
        assertThatThrownBy(() -> fetcher(true, 1024, null).fetch("http://127.0.0.1:1/image.png"))
                .isInstanceOf(ImageFetchException.class)
                .satisfies(e -> assertThat(((ImageFetchException) e).retryable()).isTrue());
    }

    @Test
    void readsFileUrlsOnlyInsideTheFileRoot(@TempDir Path root, @TempDir Path elsewhere) throws Exception {
        Path inside = Files.write(root.resolve("a.png"), IMAGE);
        Path outside = Files.write(elsewhere.resolve("b.png"), IMAGE);
        assertThat(fetcher(false, 1024, root).fetch(inside.toUri().toString())).isEqualTo(IMAGE);
        assertThatThrownBy(() -> fetcher(false, 1024, root).fetch(outside.toUri().toString()))
                .isInstanceOf(ImageFetchException.class).hasMessageContaining("outside fetch.file-root");
        assertThatThrownBy(() -> fetcher(false, 1024, null).fetch(inside.toUri().toString()))
                .isInstanceOf(ImageFetchException.class).hasMessageContaining("set fetch.file-root");
    }

    @Test
    void classifiesNonPublicAddresses() throws Exception {
        assertThat(ImageFetcher.isNonPublic(InetAddress.getByName("10.1.2.3"))).isTrue();
        assertThat(ImageFetcher.isNonPublic(InetAddress.getByName("169.254.169.254"))).isTrue();
        assertThat(ImageFetcher.isNonPublic(InetAddress.getByName("100.64.0.1"))).isTrue();
        assertThat(ImageFetcher.isNonPublic(InetAddress.getByName("fd00::1"))).isTrue();
        assertThat(ImageFetcher.isNonPublic(InetAddress.getByName("::1"))).isTrue();
        assertThat(ImageFetcher.isNonPublic(InetAddress.getByName("93.184.216.34"))).isFalse();
    }
}
