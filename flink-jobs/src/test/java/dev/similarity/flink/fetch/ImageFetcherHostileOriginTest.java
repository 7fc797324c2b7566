package dev.similarity.flink.fetch;

import dev.similarity.flink.fetch.ImageFetchException.Code;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The fetcher against an origin that misbehaves on purpose, with only the narrow exemption: the
 * hostile origin is trusted for the first request, so every redirect hop meets the full policy.
 * Every case must end within the deadline, and no request may reach a {@code /forbidden} path.
 */
class ImageFetcherHostileOriginTest {

    private static final Duration DEADLINE = Duration.ofSeconds(3);

    private HostileOrigin hostile;
    private ImageFetcher fetcher;

    @BeforeEach
    void start() throws Exception {
        hostile = new HostileOrigin();
        fetcher = new ImageFetcher(settings(hostile.origin()).build());
    }

    @AfterEach
    void stop() throws Exception {
        assertThat(hostile.forbiddenReached()).as("a request reached a forbidden path: %s", hostile.requested).isFalse();
        fetcher.close();
        hostile.close();
    }

    private static FetchSettings.Builder settings(String... trusted) {
        return FetchSettings.builder()
                .timeout(DEADLINE).connectTimeout(Duration.ofSeconds(1)).readTimeout(Duration.ofSeconds(1))
                .minBytesPerSecond(4096).minRateGrace(Duration.ofSeconds(1))
                .maxBytes(1 << 20).maxConnections(16).maxConnectionsPerHost(4)
                .trustedOrigins(List.of(trusted));
    }

    private Code failureOf(String url) {
        long start = System.nanoTime();
        try {
            fetcher.fetch(url);
            return fail("fetched " + url);
        } catch (ImageFetchException e) {
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(took).as("%s ended after %s: %s", url, took, e.getMessage()).isLessThan(DEADLINE.plusMillis(700));
            return e.code();
        }
    }

    @Test
    void fetchesAnImageFromTheTrustedOrigin() throws Exception {
        assertThat(fetcher.fetch(hostile.url("/image.png"))).isEqualTo(HostileOrigin.IMAGE);
    }

    @ParameterizedTest
    @CsvSource({
            "/drip, TOO_SLOW",
            "/stall-headers, TIMED_OUT",
            "/hang, TIMED_OUT",
            "/stall-body, TIMED_OUT",
            "/huge-length, TOO_LARGE",
            "/short-body, BODY_INCOMPLETE",
            "/endless-chunked, TOO_LARGE",
            "/gzip-bomb, CONTENT_ENCODING_REFUSED",
            "/unavailable, HTTP_SERVER_ERROR",
            "/gone, HTTP_CLIENT_ERROR"})
    void everyMisbehaviourEndsWithinTheDeadlineAsATypedFailure(String path, Code expected) {
        assertThat(failureOf(hostile.url(path))).isEqualTo(expected);
    }

    @Test
    void dripSlowerThanTheDeadlineIsCutAtTheDeadlineEvenWithoutARateFloor() throws Exception {
        try (ImageFetcher noFloor = new ImageFetcher(settings(hostile.origin()).minBytesPerSecond(0).build())) {
            long start = System.nanoTime();
            try {
                noFloor.fetch(hostile.url("/drip"));
                fail("fetched a drip");
            } catch (ImageFetchException e) {
                assertThat(e.code()).isEqualTo(Code.DEADLINE_EXCEEDED);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(DEADLINE.minusMillis(100), DEADLINE.plusMillis(700));
            }
        }
    }

    @Test
    void redirectsBeyondTheLimitAreRefused() throws Exception {
        try (ImageFetcher noRedirects = new ImageFetcher(settings(hostile.origin()).maxRedirects(0).build())) {
            noRedirects.fetch(hostile.url("/loop"));
            fail("followed a redirect");
        } catch (ImageFetchException e) {
            assertThat(e.code()).isEqualTo(Code.TOO_MANY_REDIRECTS);
        }
        // A loop on the trusted origin ends at its first hop: a redirect meets the full policy.
        assertThat(failureOf(hostile.url("/loop")).isPolicyRefusal()).isTrue();
    }

    @Test
    void retryAfterIsReported() {
        try {
            fetcher.fetch(hostile.url("/unavailable"));
            fail("fetched");
        } catch (ImageFetchException e) {
            assertThat(e.retryable()).isTrue();
            assertThat(e.retryAfter()).contains(Duration.ofSeconds(7));
        }
    }

    /** Redirects from the trusted origin to loopback in its many spellings, and to private and metadata addresses. */
    @ParameterizedTest
    @ValueSource(strings = {
            "/forbidden/relative", "http://127.0.0.1:%d/forbidden/a", "http://localhost:%d/forbidden/b",
            "http://[::1]:%d/forbidden/c", "http://127.1:%d/forbidden/d", "http://0x7f000001:%d/forbidden/e",
            "http://2130706433:%d/forbidden/f", "http://0177.0.0.1:%d/forbidden/g", "http://[::ffff:127.0.0.1]:%d/forbidden/h",
            "http://[::127.0.0.1]:%d/forbidden/i", "http://[64:ff9b::7f00:1]:%d/forbidden/j", "http://[2002:7f00:1::]:%d/forbidden/k",
            "http://127.0.0.1.:%d/forbidden/l", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/forbidden",
            "http://10.0.0.1/forbidden", "http://192.168.1.1/forbidden", "http://172.16.0.1/forbidden", "http://100.64.0.1/forbidden",
            "file:///etc/passwd", "jar:file:///tmp/x.jar!/forbidden", "ftp://127.0.0.1/forbidden", "gopher://127.0.0.1:70/_forbidden",
            "http://user:pw@127.0.0.1:%d/forbidden/m", "http://127.0.0.1:0/forbidden", "http://127.0.0.1:99999/forbidden",
            "http://exa mple.com/forbidden"})
    void redirectsAwayFromTheTrustedOriginMeetTheFullPolicy(String location) {
        String target = location.contains("%d") ? location.formatted(hostile.port()) : location;
        Code code = failureOf(hostile.url("/redirect?to=" + URLEncoder.encode(target, StandardCharsets.UTF_8)));
        assertThat(code.isPolicyRefusal()).as("%s -> %s", target, code).isTrue();
    }

    @Test
    void redirectChainsEndAtTheFirstForbiddenHop() {
        String third = "http://127.0.0.1:" + hostile.port() + "/forbidden/third";
        String second = hostile.url("/redirect?to=" + URLEncoder.encode(third, StandardCharsets.UTF_8));
        assertThat(failureOf(hostile.url("/redirect?to=" + URLEncoder.encode(second, StandardCharsets.UTF_8))).isPolicyRefusal())
                .isTrue();
        assertThat(hostile.requested).containsExactly("/redirect");
    }

    @Test
    void aValidImageIsServedWhileAPoolsWorthOfDownloadsStalls() throws Exception {
        try (HostileOrigin good = new HostileOrigin();
             ImageFetcher shared = new ImageFetcher(settings(hostile.origin(), good.origin()).build());
             ExecutorService downloads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> stalled = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                stalled.add(downloads.submit(() -> {
                    try {
                        shared.fetch(hostile.url("/stall-headers"));
                    } catch (ImageFetchException expected) {
                        // ends at the read timeout
                    }
                    return null;
                }));
            }
            Thread.sleep(300);
            long start = System.nanoTime();
            assertThat(downloads.submit(() -> shared.fetch(good.url("/image.png"))).get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS))
                    .isEqualTo(HostileOrigin.IMAGE);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
            for (Future<?> f : stalled) {
                f.get(DEADLINE.toMillis() * 8, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** The JVM resolver answers a public address first and loopback after (RebindingResolverProvider). */
    @Test
    void connectsToTheAddressItCheckedNotToASecondResolution() throws Exception {
        try (ImageFetcher rebinding = new ImageFetcher(settings().allowedPorts(List.of(80, 443, hostile.port())).build())) {
            try {
                rebinding.fetch("http://img.rebind.test:" + hostile.port() + "/forbidden/rebound");
                fail("fetched through a rebinding name");
            } catch (ImageFetchException e) {
                assertThat(e.code()).isIn(Code.CONNECT_FAILED, Code.TIMED_OUT, Code.IO_ERROR, Code.DEADLINE_EXCEEDED);
            }
            assertThat(RebindingResolverProvider.LOOKUPS.get("img.rebind.test")).hasValue(1);
        }
    }
}
