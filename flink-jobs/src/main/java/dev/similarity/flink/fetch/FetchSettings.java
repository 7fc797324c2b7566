package dev.similarity.flink.fetch;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * How an {@link ImageFetcher} downloads; see the {@code fetch.*} options for each field's meaning.
 * Build with {@link #builder()}; {@link Builder#build()} refuses inconsistent values with the option's name.
 */
public record FetchSettings(
        long maxBytes,
        Duration connectTimeout,
        Duration readTimeout,
        Duration timeout,
        long minBytesPerSecond,
        Duration minRateGrace,
        int maxRedirects,
        int maxUrlLength,
        Set<Integer> allowedPorts,
        Set<String> trustedOrigins,
        Path fileRoot,
        int maxConnections,
        int maxConnectionsPerHost) {

    public static Builder builder() {
        return new Builder();
    }

    /** {@code scheme://host:port} with the scheme's default port made explicit, as the policy compares origins. */
    public static String normaliseOrigin(String origin) {
        URI uri;
        try {
            uri = new URI(origin.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("fetch.trusted-origins: '" + origin + "' is not a URI: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null || uri.getRawUserInfo() != null
                || (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
                || uri.getRawQuery() != null) {
            throw new IllegalArgumentException("fetch.trusted-origins: '" + origin
                    + "' is not an origin; write scheme://host:port, e.g. http://127.0.0.1:8080");
        }
        String host = uri.getHost().toLowerCase(Locale.ROOT);
        int port = uri.getPort() == -1 ? (scheme.equals("https") ? 443 : 80) : uri.getPort();
        return scheme + "://" + host + ":" + port;
    }

    /** Builds {@link FetchSettings}; defaults match the {@code fetch.*} options' defaults. */
    public static final class Builder {
        private long maxBytes = 10L << 20;
        private Duration connectTimeout = Duration.ofSeconds(3);
        private Duration readTimeout = Duration.ofSeconds(5);
        private Duration timeout = Duration.ofSeconds(20);
        private long minBytesPerSecond = 4096;
        private Duration minRateGrace = Duration.ofSeconds(3);
        private int maxRedirects = 3;
        private int maxUrlLength = 2048;
        private Set<Integer> allowedPorts = Set.of(80, 443, 8080, 8443);
        private Set<String> trustedOrigins = Set.of();
        private Path fileRoot;
        private int maxConnections = 64;
        private int maxConnectionsPerHost = 8;

        public Builder maxBytes(long v) { maxBytes = v; return this; }
        public Builder connectTimeout(Duration v) { connectTimeout = v; return this; }
        public Builder readTimeout(Duration v) { readTimeout = v; return this; }
        public Builder timeout(Duration v) { timeout = v; return this; }
        public Builder minBytesPerSecond(long v) { minBytesPerSecond = v; return this; }
        public Builder minRateGrace(Duration v) { minRateGrace = v; return this; }
        public Builder maxRedirects(int v) { maxRedirects = v; return this; }
        public Builder maxUrlLength(int v) { maxUrlLength = v; return this; }
        public Builder allowedPorts(Collection<Integer> v) { allowedPorts = Set.copyOf(v); return this; }
        public Builder fileRoot(Path v) { fileRoot = v; return this; }
        public Builder maxConnections(int v) { maxConnections = v; return this; }
        public Builder maxConnectionsPerHost(int v) { maxConnectionsPerHost = v; return this; }

        /** Origins ({@code scheme://host[:port]}) exempt from the port and address rules on the first request. */
        public Builder trustedOrigins(Collection<String> v) {
            Set<String> normalised = new LinkedHashSet<>();
            for (String origin : v) {
                normalised.add(normaliseOrigin(origin));
            }
            trustedOrigins = Set.copyOf(normalised);
            return this;
        }

        public FetchSettings build() {
            Objects.requireNonNull(connectTimeout, "fetch.connect-timeout");
            Objects.requireNonNull(readTimeout, "fetch.read-timeout");
            Objects.requireNonNull(timeout, "fetch.timeout");
            Objects.requireNonNull(minRateGrace, "fetch.min-rate-grace");
            require(maxBytes > 0, "fetch.max-bytes must be positive, was " + maxBytes);
            require(maxRedirects >= 0, "fetch.max-redirects must not be negative, was " + maxRedirects);
            require(maxUrlLength >= 64, "fetch.max-url-length must be at least 64, was " + maxUrlLength);
            require(minBytesPerSecond >= 0, "fetch.min-transfer-rate must not be negative");
            require(maxConnections >= 1, "fetch.max-connections must be at least 1, was " + maxConnections);
            require(maxConnectionsPerHost >= 1 && maxConnectionsPerHost <= maxConnections,
                    "fetch.max-connections-per-host must be between 1 and fetch.max-connections (" + maxConnections + "), was " + maxConnectionsPerHost);
            require(!timeout.isNegative() && !timeout.isZero(), "fetch.timeout must be positive, was " + timeout);
            require(connectTimeout.compareTo(timeout) <= 0 && readTimeout.compareTo(timeout) <= 0,
                    "fetch.connect-timeout (" + connectTimeout + ") and fetch.read-timeout (" + readTimeout
                            + ") must not exceed fetch.timeout (" + timeout + "), the deadline of the whole download");
            for (int port : allowedPorts) {
                require(port >= 1 && port <= 65535, "fetch.allowed-ports: " + port + " is not a port");
            }
            return new FetchSettings(maxBytes, connectTimeout, readTimeout, timeout, minBytesPerSecond, minRateGrace,
                    maxRedirects, maxUrlLength, allowedPorts, trustedOrigins, fileRoot, maxConnections, maxConnectionsPerHost);
        }

        private static void require(boolean condition, String message) {
            if (!condition) throw new IllegalArgumentException(message);
        }
    }
}
