package dev.similarity.flink.fetch;

import dev.similarity.flink.fetch.ImageFetchException.Code;
import dev.similarity.flink.fetch.internal.UrlPolicy;
import dev.similarity.flink.fetch.internal.UrlPolicy.Target;
import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.HttpHostConnectException;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.utils.DateUtils;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ConnectionClosedException;
import org.apache.hc.core5.http.ConnectionRequestTimeoutException;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.MalformedChunkCodingException;
import org.apache.hc.core5.http.TruncatedChunkException;
import org.apache.hc.core5.http.io.SocketConfig;
import org.apache.hc.core5.util.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Downloads product images over HTTP(S), or reads them below a configured folder for {@code file:}
 * URLs. Image URLs are untrusted input: every hop, redirects included, passes {@link UrlPolicy}
 * before any connection, and the connection goes to the very address the policy checked (the
 * request names the host only in its Host header and TLS server name). A download ends within
 * {@code fetch.timeout} whatever the server does: a watchdog aborts the connection at the deadline,
 * reads wait at most {@code fetch.read-timeout} for a byte, and a body arriving slower than
 * {@code fetch.min-transfer-rate} is abandoned. Every failure is an {@link ImageFetchException}.
 *
 * <p>Thread-safe; {@link #fetch} blocks its caller (run it on virtual threads). At most
 * {@code fetch.max-connections} downloads run at once, {@code fetch.max-connections-per-host} per host,
 * so one slow partner cannot take every connection; a request that finds its host's connections busy
 * for {@code fetch.connect-timeout} fails as {@link Code#HOST_BUSY} (transient) instead of queueing.
 */
public final class ImageFetcher implements AutoCloseable {

    private static final int BUFFER = 16 * 1024;

    private final FetchSettings settings;
    private final UrlPolicy policy;
    private final Path fileRoot;
    private final PoolingHttpClientConnectionManager connections;
    private final CloseableHttpClient client;
    private final ScheduledExecutorService watchdog;

    public ImageFetcher(FetchSettings settings) {
        this(settings, HostResolver.SYSTEM);
    }

    public ImageFetcher(FetchSettings settings, HostResolver resolver) {
        this.settings = settings;
        this.policy = new UrlPolicy(settings, resolver);
        this.fileRoot = settings.fileRoot() == null ? null : realRoot(settings.fileRoot());
        this.connections = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnTotal(settings.maxConnections())
                .setMaxConnPerRoute(settings.maxConnectionsPerHost())
                // Every request names its address (HttpHost with an InetAddress): the client must never resolve.
                .setDnsResolver(new RefusingDnsResolver())
                .setDefaultSocketConfig(SocketConfig.custom().setSoTimeout(timeout(settings.readTimeout())).build())
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(timeout(settings.connectTimeout()))
                        .setSocketTimeout(timeout(settings.readTimeout()))
                        .setTimeToLive(Timeout.ofMinutes(5))
                        .build())
                .build();
        this.client = HttpClients.custom()
                .setConnectionManager(connections)
                .disableRedirectHandling()          // followed by hand, each hop through the policy
                .disableContentCompression()        // bytes counted as sent: no gzip bomb inflates past fetch.max-bytes
                .disableAutomaticRetries()          // retries are the job's, per image, with backoff
                .disableCookieManagement()
                .disableAuthCaching()
                .setUserAgent("similarity-indexer-image-fetcher")
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setResponseTimeout(timeout(settings.readTimeout()))
                        // A host whose connections are all busy (hung, slow) is not waited on for long: the
                        // image is parked for a retry instead of holding a place in the async operator.
                        .setConnectionRequestTimeout(timeout(settings.connectTimeout()))
                        .build())
                .build();
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "image-fetch-watchdog");
            t.setDaemon(true);
            return t;
        });
        scheduler.setRemoveOnCancelPolicy(true);
        this.watchdog = scheduler;
    }

    /** The image's bytes, at most {@code fetch.max-bytes}; blocks until done or the deadline. */
    public byte[] fetch(String url) throws ImageFetchException {
        if (url == null || url.isEmpty()) {
            throw new ImageFetchException(Code.URL_INVALID, "image URL is empty");
        }
        try {
            URI uri = policy.parse(url, false);
            if ("file".equalsIgnoreCase(uri.getScheme())) {
                return readFile(uri, url);
            }
            return fetchHttp(uri, url);
        } catch (ImageFetchException e) {
            throw e;
        } catch (RuntimeException e) {
            // The URL or a server's answer made a library throw: still a typed, permanent refusal.
            throw new ImageFetchException(Code.URL_INVALID, "image URL " + url + " could not be handled: " + e, e);
        }
    }

    private byte[] fetchHttp(URI first, String url) throws ImageFetchException {
        long deadline = System.nanoTime() + settings.timeout().toNanos();
        URI uri = first;
        for (int hop = 0; hop <= settings.maxRedirects(); hop++) {
            Target target = policy.check(uri, hop == 0);
            HttpGet request = new HttpGet(uri);
            request.setHeader("Accept", "image/*");
            AtomicBoolean expired = new AtomicBoolean();
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw deadlineExceeded(url);
            }
            ScheduledFuture<?> abort = watchdog.schedule(() -> {
                expired.set(true);
                request.cancel();
            }, left, TimeUnit.NANOSECONDS);
            try (ClassicHttpResponse response = client.executeOpen(
                    new HttpHost(target.scheme(), target.address(), target.host(), target.port()), request, null)) {
                int status = response.getCode();
                Header location = response.getFirstHeader("Location");
                if (status >= 300 && status < 400 && location != null) {
                    uri = redirectTarget(uri, location.getValue(), url);
                    continue;
                }
                checkStatus(status, response, url, uri);
                return readBody(response.getEntity(), url, expired);
            } catch (ImageFetchException e) {
                throw e;
            } catch (IOException e) {
                throw ioFailure(e, url, target, expired.get());
            } finally {
                abort.cancel(false);
            }
        }
        throw new ImageFetchException(Code.TOO_MANY_REDIRECTS, "image " + url + " redirects more than fetch.max-redirects ("
                + settings.maxRedirects() + ") times");
    }

    private URI redirectTarget(URI from, String location, String url) throws ImageFetchException {
        URI to = policy.parse(location, true);
        try {
            return from.resolve(to);
        } catch (IllegalArgumentException e) {
            throw new ImageFetchException(Code.REDIRECT_INVALID, "image " + url + " redirects to an unusable Location '" + location + "'", e);
        }
    }

    private void checkStatus(int status, ClassicHttpResponse response, String url, URI at) throws ImageFetchException {
        String where = at.toString().equals(url) ? "" : " at " + at;
        if (status == 200) {
            Header encoding = response.getFirstHeader("Content-Encoding");
            if (encoding != null && !encoding.getValue().trim().equalsIgnoreCase("identity")) {
                throw new ImageFetchException(Code.CONTENT_ENCODING_REFUSED, "image " + url + where + " came with Content-Encoding "
                        + encoding.getValue() + "; the fetcher asks for and accepts only identity");
            }
            return;
        }
        if (status == 408 || status == 425 || status == 429 || status >= 500) {
            Duration retryAfter = retryAfter(response.getFirstHeader("Retry-After"));
            throw new ImageFetchException(Code.HTTP_SERVER_ERROR, "image " + url + " answered HTTP " + status + where
                    + (retryAfter == null ? "" : ", retry after " + retryAfter), retryAfter, null);
        }
        throw new ImageFetchException(Code.HTTP_CLIENT_ERROR, "image " + url + " answered HTTP " + status + where);
    }

    /** {@code Retry-After} as seconds or an HTTP date (RFC 9110 section 10.2.3); null when absent or unreadable. */
    static Duration retryAfter(Header header) {
        if (header == null) return null;
        String value = header.getValue().trim();
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(value)));
        } catch (NumberFormatException notSeconds) {
            Instant when = DateUtils.parseStandardDate(value);
            if (when == null) return null;
            Duration left = Duration.between(Instant.now(), when);
            return left.isNegative() ? Duration.ZERO : left;
        }
    }

    private byte[] readBody(HttpEntity entity, String url, AtomicBoolean expired) throws IOException, ImageFetchException {
        if (entity == null) {
            return new byte[0];
        }
        long announced = entity.getContentLength();
        if (announced > settings.maxBytes()) {
            throw tooLarge(url, announced);
        }
        long start = System.nanoTime();
        long graceNanos = settings.minRateGrace().toNanos();
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(announced > 0 ? announced : BUFFER, settings.maxBytes()));
        byte[] buffer = new byte[BUFFER];
        try (InputStream in = entity.getContent()) {
            int n;
            while ((n = in.read(buffer)) != -1) {
                out.write(buffer, 0, n);
                if (out.size() > settings.maxBytes()) {
                    throw tooLarge(url, -1);
                }
                long elapsed = System.nanoTime() - start;
                if (settings.minBytesPerSecond() > 0 && elapsed > graceNanos
                        && out.size() < settings.minBytesPerSecond() * (elapsed / 1e9)) {
                    throw new ImageFetchException(Code.TOO_SLOW, "image " + url + " arrived at " + (long) (out.size() / (elapsed / 1e9))
                            + " bytes/s, under fetch.min-transfer-rate (" + settings.minBytesPerSecond() + " bytes/s)");
                }
            }
        } catch (IOException e) {
            if (expired.get()) throw deadlineExceeded(url);
            throw e;
        }
        return out.toByteArray();
    }

    private ImageFetchException ioFailure(IOException e, String url, Target target, boolean expired) {
        if (expired) {
            return deadlineExceeded(url);
        }
        String host = target.host();
        if (e instanceof ConnectionRequestTimeoutException) {
            return new ImageFetchException(Code.HOST_BUSY, "all fetch.max-connections-per-host (" + settings.maxConnectionsPerHost()
                    + ") connections to " + host + " stayed busy for " + settings.connectTimeout() + "; image " + url + " will be retried", e);
        }
        if (e instanceof ConnectTimeoutException) {
            return new ImageFetchException(Code.TIMED_OUT, "connecting to " + host + " for image " + url + " timed out after "
                    + settings.connectTimeout(), e);
        }
        if (e instanceof HttpHostConnectException) {
            return new ImageFetchException(Code.CONNECT_FAILED, "connecting to " + host + " for image " + url + " failed: " + e.getMessage(), e);
        }
        if (e instanceof SocketTimeoutException) {
            return new ImageFetchException(Code.TIMED_OUT, "image " + url + " sent nothing for fetch.read-timeout (" + settings.readTimeout() + ")", e);
        }
        if (e instanceof ConnectionClosedException || e instanceof TruncatedChunkException || e instanceof MalformedChunkCodingException) {
            return new ImageFetchException(Code.BODY_INCOMPLETE, "download of image " + url + " broke off: " + e.getMessage(), e);
        }
        if (e instanceof UnknownHostException) {
            return new ImageFetchException(Code.HOST_UNRESOLVED, "host " + host + " of image " + url + " does not resolve", e);
        }
        return new ImageFetchException(Code.IO_ERROR, "download of image " + url + " failed: " + e, e);
    }

    private ImageFetchException deadlineExceeded(String url) {
        return new ImageFetchException(Code.DEADLINE_EXCEEDED, "image " + url + " was not downloaded within fetch.timeout ("
                + settings.timeout() + ")");
    }

    private ImageFetchException tooLarge(String url, long size) {
        return new ImageFetchException(Code.TOO_LARGE, "image " + url + " is " + (size >= 0 ? size + " bytes" : "larger than that")
                + ", over fetch.max-bytes (" + settings.maxBytes() + " bytes)");
    }

    /**
     * Reads a regular file below {@code fetch.file-root}. Every refusal says the same thing, so a dead
     * letter reveals nothing of the file system (whether a path exists, where a link points).
     */
    private byte[] readFile(URI uri, String url) throws ImageFetchException {
        ImageFetchException refused = new ImageFetchException(Code.FILE_REFUSED, "image URL " + url
                + " refused: " + (fileRoot == null ? "file: URLs are off (set fetch.file-root to the folder they may read)"
                : "not a regular file below fetch.file-root"));
        if (fileRoot == null || uri.getRawAuthority() != null || uri.getRawQuery() != null) {
            throw refused;
        }
        Path path;
        BasicFileAttributes attributes;
        try {
            Path requested = Path.of(uri).normalize();
            if (!requested.startsWith(fileRoot)) throw refused;
            path = requested.toRealPath();
            // Links are followed, but where they lead must be below the root too.
            if (!path.startsWith(fileRoot)) throw refused;
            attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
            throw refused;
        }
        // Only regular files: a FIFO or device would block the thread or never end.
        if (!attributes.isRegularFile()) throw refused;
        if (attributes.size() > settings.maxBytes()) throw tooLarge(url, attributes.size());
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(settings.maxBytes() + 1, attributes.size() + 1));
            while (buffer.hasRemaining() && channel.read(buffer) > 0) {
                // read until full or end of file
            }
            if (buffer.position() > settings.maxBytes()) throw tooLarge(url, -1);
            byte[] bytes = new byte[buffer.position()];
            buffer.flip().get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new ImageFetchException(Code.IO_ERROR, "image file " + url + " could not be read", e);
        }
    }

    private static Path realRoot(Path root) {
        try {
            return root.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("fetch.file-root " + root + " cannot be resolved: " + e.getMessage(), e);
        }
    }

    private static Timeout timeout(Duration d) {
        return Timeout.ofMilliseconds(Math.max(1, d.toMillis()));
    }

    /** Connections currently open, leased or idle (metric). */
    public int openConnections() {
        var stats = connections.getTotalStats();
        return stats.getLeased() + stats.getAvailable();
    }

    @Override
    public void close() throws IOException {
        watchdog.shutdownNow();
        client.close();
    }

    /** Refuses every name: a request that reaches the client's own resolution is a bug, not a fetch. */
    private static final class RefusingDnsResolver implements org.apache.hc.client5.http.DnsResolver {
        @Override
        public java.net.InetAddress[] resolve(String host) throws UnknownHostException {
            throw new UnknownHostException("image fetches connect only to addresses checked by the URL policy; " + host + " was not");
        }

        @Override
        public String resolveCanonicalHostname(String host) throws UnknownHostException {
            throw new UnknownHostException(host);
        }
    }

}
