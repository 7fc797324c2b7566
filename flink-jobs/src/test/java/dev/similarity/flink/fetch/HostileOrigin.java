package dev.similarity.flink.fetch;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.zip.GZIPOutputStream;

/**
 * An HTTP origin on loopback that misbehaves on purpose, written on raw sockets so that it can do what
 * a well-behaved server library would not: drip bytes, stall after the headers, lie about lengths,
 * send endless chunked bodies and gzip bombs, redirect anywhere. It records every path requested;
 * paths under {@code /forbidden} must never be reached by a fetcher that keeps to its policy.
 */
final class HostileOrigin implements AutoCloseable {

    static final byte[] IMAGE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 1, 2, 3, 4};

    final List<String> requested = new CopyOnWriteArrayList<>();
    private final ServerSocket server;
    private final ExecutorService connections = Executors.newVirtualThreadPerTaskExecutor();
    private volatile boolean closed;

    HostileOrigin() throws IOException {
        server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    String origin() {
        return "http://127.0.0.1:" + port();
    }

    boolean forbiddenReached() {
        return requested.stream().anyMatch(p -> p.startsWith("/forbidden"));
    }

    private void accept() {
        while (!closed) {
            try {
                Socket socket = server.accept();
                connections.submit(() -> serve(socket));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            String requestLine = in.readLine();
            if (requestLine == null) return;
            String line;
            while ((line = in.readLine()) != null && !line.isEmpty()) {
                // headers ignored
            }
            String target = requestLine.split(" ")[1];
            String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
            String query = target.contains("?") ? target.substring(target.indexOf('?') + 1) : "";
            requested.add(path);
            OutputStream out = socket.getOutputStream();
            switch (path) {
                case "/image.png" -> respond(out, "200 OK", "Content-Length: " + IMAGE.length, IMAGE);
                case "/drip" -> {
                    head(out, "200 OK", "Content-Length: 100000");
                    for (int i = 0; i < 100_000 && !closed; i++) {
                        out.write(0);
                        out.flush();
                        Thread.sleep(200);
                    }
                }
                case "/stall-headers", "/hang" -> Thread.sleep(600_000);
                case "/stall-body" -> {
                    head(out, "200 OK", "Content-Length: 1000");
                    out.write(new byte[10]);
                    out.flush();
                    Thread.sleep(600_000);
                }
                case "/huge-length" -> {
                    head(out, "200 OK", "Content-Length: 10737418240");
                    out.write(new byte[1024]);
                    out.flush();
                }
                case "/short-body" -> respond(out, "200 OK", "Content-Length: 1000", new byte[10]);
                case "/endless-chunked" -> {
                    head(out, "200 OK", "Transfer-Encoding: chunked");
                    byte[] chunk = new byte[8192];
                    while (!closed) {
                        out.write("2000\r\n".getBytes(StandardCharsets.US_ASCII));
                        out.write(chunk);
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                }
                case "/gzip-bomb" -> {
                    byte[] bomb = GzipBomb.BYTES;
                    respond(out, "200 OK", "Content-Encoding: gzip\r\nContent-Length: " + bomb.length, bomb);
                }
                case "/loop" -> respond(out, "302 Found", "Location: /loop\r\nContent-Length: 0", new byte[0]);
                case "/redirect" -> respond(out, "302 Found", "Location: " + URLDecoder.decode(query.substring(3), StandardCharsets.UTF_8)
                        + "\r\nContent-Length: 0", new byte[0]);
                case "/unavailable" -> respond(out, "503 Service Unavailable", "Retry-After: 7\r\nContent-Length: 0", new byte[0]);
                case "/gone" -> respond(out, "404 Not Found", "Content-Length: 0", new byte[0]);
                default -> respond(out, "200 OK", "Content-Length: " + IMAGE.length, IMAGE);
            }
        } catch (IOException | InterruptedException ignored) {
            // the client went away: what the tests are about
        }
    }

    private static void head(OutputStream out, String status, String headers) throws IOException {
        out.write(("HTTP/1.1 " + status + "\r\n" + headers + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void respond(OutputStream out, String status, String headers, byte[] body) throws IOException {
        head(out, status, headers);
        out.write(body);
        out.flush();
    }

    /** Compressed once, on first use: compressing 64 MB per request took over the client's 1 s read timeout on a loaded machine. */
    private static final class GzipBomb {
        static final byte[] BYTES;

        static {
            try {
                BYTES = gzipOfZeros(64 << 20);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private static byte[] gzipOfZeros(int size) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < size / zeros.length; i++) gzip.write(zeros);
        }
        return bytes.toByteArray();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        connections.shutdownNow();
    }
}
