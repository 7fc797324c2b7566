package dev.similarity.flink.demo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Serves the demo catalogue's images as PNG files over HTTP on loopback:
 * {@code /images/<n>.png}, the placeholder picture at {@code /images/placeholder.png} (under any
 * query string, so every product can have a URL of its own for the same bytes); plus fixed
 * payloads a test registers with {@link #put}.
 */
public final class DemoImageServer implements AutoCloseable {

    private final DemoCatalogue catalogue;
    private final HttpServer server;
    private final ExecutorService executor;
    private final Map<String, byte[]> fixed = new ConcurrentHashMap<>();
    /** How the server fails during an outage: answers 503, or accepts connections and never answers. */
    public enum Outage { NONE, UNAVAILABLE, HANG }

    private volatile Outage outage = Outage.NONE;

    public DemoImageServer(DemoCatalogue catalogue, int port) throws IOException {
        this.catalogue = catalogue;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
        this.executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "demo-image-server");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", this::handle);
        server.start();
    }

    public String imageUrl(int n) {
        return baseUrl() + "/images/" + n + ".png";
    }

    /** The placeholder picture's URL for {@code productId}: same bytes for every product, a URL of its own. */
    public String placeholderUrl(String productId) {
        return baseUrl() + "/images/placeholder.png?for=" + java.net.URLEncoder.encode(productId, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The URL of image {@code n} shown by {@code productId}: {@link #imageUrl} or {@link #placeholderUrl}. */
    public String imageUrl(int n, String productId) {
        return n == DemoCatalogue.PLACEHOLDER ? placeholderUrl(productId) : imageUrl(n);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** While on, every request is answered 503 with Retry-After: 1, as a partner's image host in an outage. */
    public void outage(boolean on) {
        outage(on ? Outage.UNAVAILABLE : Outage.NONE);
    }

    /** Starts or ends an outage of the given kind; requests held by a hang are answered when it ends. */
    public void outage(Outage kind) {
        outage = kind;
    }

    /** Serves {@code body} at {@code path} (starting with '/'); returns its URL. */
    public String put(String path, byte[] body) {
        fixed.put(path, body);
        return baseUrl() + path;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            while (outage == Outage.HANG) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            if (outage == Outage.UNAVAILABLE) {
                exchange.getResponseHeaders().set("Retry-After", "1");
                exchange.sendResponseHeaders(503, -1);
                return;
            }
            String path = exchange.getRequestURI().getPath();
            byte[] body = fixed.get(path);
            if (body == null && path.equals("/images/placeholder.png")) {
                body = catalogue.png(DemoCatalogue.PLACEHOLDER);
            }
            if (body == null && path.startsWith("/images/") && path.endsWith(".png")) {
                try {
                    int n = Integer.parseInt(path.substring("/images/".length(), path.length() - ".png".length()));
                    if (n >= 0 && n < catalogue.capacity()) {
                        body = catalogue.png(n);
                    }
                } catch (NumberFormatException ignored) {
                    // falls through to 404
                }
            }
            if (body == null) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "image/png");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
