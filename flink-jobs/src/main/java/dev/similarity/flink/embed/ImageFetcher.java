package dev.similarity.flink.embed;

import dev.similarity.flink.embed.ImageFetchException.Reason;

import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Downloads product images over HTTP(S), or reads them from a configured folder for {@code file:}
 * URLs. Redirects are followed by hand so that every hop's resolved address is checked: unless
 * private addresses are allowed, no hop may reach loopback, link-local, private or multicast
 * space (an image URL is attacker-controlled input). Numeric host spellings other than a dotted
 * quad ({@code 2130706433}, {@code 0177.0.0.1}) are refused outright.
 */
public final class ImageFetcher {

    private static final Pattern DOTTED_QUAD = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern NUMERIC_HOST = Pattern.compile("[0-9x.]+", Pattern.CASE_INSENSITIVE);

    private final HttpClient client;
    private final long maxBytes;
    private final Duration readTimeout;
    private final int maxRedirects;
    private final boolean allowPrivateAddresses;
    private final Path fileRoot;

    public ImageFetcher(Settings settings) {
        this.maxBytes = settings.maxBytes;
        this.readTimeout = settings.readTimeout;
        this.maxRedirects = settings.maxRedirects;
        this.allowPrivateAddresses = settings.allowPrivateAddresses;
        this.fileRoot = settings.fileRoot == null ? null : realPath(settings.fileRoot);
        this.client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(settings.connectTimeout)
                .build();
    }

    /** Settings of a fetcher; see the {@code fetch.*} options. */
    public record Settings(long maxBytes, Duration connectTimeout, Duration readTimeout, int maxRedirects,
                           boolean allowPrivateAddresses, Path fileRoot) {
        public Settings {
            if (maxBytes <= 0) throw new IllegalArgumentException("fetch.max-bytes must be positive, was " + maxBytes);
            if (maxRedirects < 0) throw new IllegalArgumentException("fetch.max-redirects must not be negative");
            Objects.requireNonNull(connectTimeout, "fetch.connect-timeout");
            Objects.requireNonNull(readTimeout, "fetch.read-timeout");
        }
    }

    /**
     * The image's bytes; blocks the calling thread (run it on a download pool). The HTTP client keeps
     * its own executor: sharing the caller's pool deadlocks once every pool thread waits in here.
     */
    public byte[] fetch(String url) throws ImageFetchException {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, false, "image URL " + url + " is not a URI: " + e.getMessage(), e);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("file")) {
            return readFile(uri);
        }
        for (int hop = 0; hop <= maxRedirects; hop++) {
            checkHttpTarget(uri, url);
            HttpResponse<InputStream> response = send(uri, url);
            int status = response.statusCode();
            if (status >= 300 && status < 400 && response.headers().firstValue("location").isPresent()) {
                closeQuietly(response.body());
                uri = uri.resolve(response.headers().firstValue("location").get());
                continue;
            }
            if (status != 200) {
                closeQuietly(response.body());
                boolean transientStatus = status >= 500 || status == 429 || status == 408;
                throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, transientStatus,
                        "image " + url + " answered HTTP " + status + (uri.toString().equals(url) ? "" : " at " + uri), null);
            }
            long announced = response.headers().firstValueAsLong("content-length").orElse(-1);
            if (announced > maxBytes) {
                closeQuietly(response.body());
                throw tooLarge(url, announced);
            }
            return readBounded(response.body(), url);
        }
        throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, false,
                "image " + url + " redirects more than fetch.max-redirects (" + maxRedirects + ") times", null);
    }

    private HttpResponse<InputStream> send(URI uri, String url) throws ImageFetchException {
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(readTimeout).GET()
                .header("Accept", "image/*").build();
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpConnectTimeoutException e) {
            throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, true, "connecting to " + uri.getHost() + " for image " + url + " timed out", e);
        } catch (HttpTimeoutException e) {
            throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, true, "image " + url + " did not answer within fetch.read-timeout (" + readTimeout + ")", e);
        } catch (IOException e) {
            throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, true, "image " + url + " is unreachable: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, true, "download of image " + url + " was interrupted", e);
        }
    }

    private void checkHttpTarget(URI uri, String url) throws ImageFetchException {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw refused(url, "scheme '" + scheme + "' of " + uri + " is not http or https");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw refused(url, uri + " has no host");
        }
        if (NUMERIC_HOST.matcher(host).matches() && !DOTTED_QUAD.matcher(host).matches()) {
            throw refused(url, "host '" + host + "' is a non-canonical numeric address");
        }
        if (allowPrivateAddresses) {
            return;
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
        } catch (UnknownHostException e) {
            throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, true, "host " + host + " of image " + url + " does not resolve", e);
        }
        for (InetAddress address : addresses) {
            if (isNonPublic(address)) {
                throw refused(url, "host " + host + " resolves to non-public address " + address.getHostAddress()
                        + " (set fetch.allow-private-addresses=true only for trusted catalogues)");
            }
        }
    }

    static boolean isNonPublic(InetAddress address) {
        if (address.isLoopbackAddress() || address.isAnyLocalAddress() || address.isLinkLocalAddress()
                || address.isSiteLocalAddress() || address.isMulticastAddress()) {
            return true;
        }
        byte[] b = address.getAddress();
        if (address instanceof Inet4Address) {
            int first = b[0] & 0xff, second = b[1] & 0xff;
            return first == 0 || (first == 100 && second >= 64 && second <= 127) // carrier-grade NAT
                    || (first == 198 && (second == 18 || second == 19)) || first >= 240;
        }
        if (address instanceof Inet6Address) {
            return (b[0] & 0xfe) == 0xfc; // unique local fc00::/7
        }
        return false;
    }

    private byte[] readFile(URI uri) throws ImageFetchException {
        String url = uri.toString();
        if (fileRoot == null) {
            throw refused(url, "file: URLs are off; set fetch.file-root to the folder they may read");
        }
        Path path;
        try {
            path = Path.of(uri).toRealPath();
        } catch (NoSuchFileException e) {
            throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, false, "image file " + url + " does not exist", e);
        } catch (IOException | IllegalArgumentException e) {
            throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, false, "image file " + url + " cannot be read: " + e.getMessage(), e);
        }
        if (!path.startsWith(fileRoot)) {
            throw refused(url, path + " is outside fetch.file-root " + fileRoot);
        }
        try {
            long size = Files.size(path);
            if (size > maxBytes) {
                throw tooLarge(url, size);
            }
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, false, "image file " + url + " cannot be read: " + e.getMessage(), e);
        }
    }

    private byte[] readBounded(InputStream body, String url) throws ImageFetchException {
        try (InputStream in = body) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxBytes + 1));
            if (bytes.length > maxBytes) {
                throw tooLarge(url, -1);
            }
            return bytes;
        } catch (IOException e) {
            throw new ImageFetchException(Reason.IMAGE_UNREACHABLE, true, "download of image " + url + " broke off: " + e, e);
        }
    }

    private ImageFetchException tooLarge(String url, long size) {
        return new ImageFetchException(Reason.IMAGE_TOO_LARGE, false, "image " + url + " is "
                + (size >= 0 ? size + " bytes" : "larger than that") + ", over fetch.max-bytes (" + maxBytes + " bytes)", null);
    }

    private static ImageFetchException refused(String url, String why) {
        return new ImageFetchException(Reason.IMAGE_UNREACHABLE, false, "image URL " + url + " refused: " + why, null);
    }

    private static Path realPath(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            throw new IllegalArgumentException("fetch.file-root " + path + " cannot be resolved: " + e.getMessage(), e);
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException ignored) {
            // the connection is discarded either way
        }
    }
}
