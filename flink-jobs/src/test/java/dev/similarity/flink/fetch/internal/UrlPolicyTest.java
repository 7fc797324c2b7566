package dev.similarity.flink.fetch.internal;

import dev.similarity.flink.fetch.FetchSettings;
import dev.similarity.flink.fetch.HostResolver;
import dev.similarity.flink.fetch.ImageFetchException;
import dev.similarity.flink.fetch.ImageFetchException.Code;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UrlPolicyTest {

    private final AtomicInteger lookups = new AtomicInteger();
    /** Names resolve to a public address; "loopback.test" to 127.0.0.1. No lookup leaves the JVM. */
    private final HostResolver resolver = host -> {
        lookups.incrementAndGet();
        return new InetAddress[] {InetAddress.getByName(host.equals("loopback.test") ? "127.0.0.1" : "93.184.216.34")};
    };
    private final UrlPolicy policy = new UrlPolicy(FetchSettings.builder()
            .trustedOrigins(List.of("http://images.internal:8000")).build(), resolver);

    private Code refusal(String url, boolean firstHop) {
        try {
            policy.check(policy.parse(url, !firstHop), firstHop);
            return null;
        } catch (ImageFetchException e) {
            return e.code();
        }
    }

    @ParameterizedTest
    @CsvSource({
            "http://user:secret@example.com/a.png, USERINFO_REFUSED",
            "http://user@example.com/a.png, USERINFO_REFUSED",
            "http://example.com:0/a.png, PORT_REFUSED",
            "http://example.com:22/a.png, PORT_REFUSED",
            "http://example.com:65536/a.png, PORT_REFUSED",
            "http://0x7f000001/a.png, HOST_NUMERIC_NONCANONICAL",
            "http://0x7F.1/a.png, HOST_NUMERIC_NONCANONICAL",
            "http://2130706433/a.png, HOST_NUMERIC_NONCANONICAL",
            "http://0177.0.0.1/a.png, HOST_NUMERIC_NONCANONICAL",
            "http://127.1/a.png, HOST_NUMERIC_NONCANONICAL",
            "http://1.2.3.4.5/a.png, HOST_NUMERIC_NONCANONICAL",
            "http://loopback.test/a.png, ADDRESS_REFUSED",
            "http://127.0.0.1/a.png, ADDRESS_REFUSED",
            "http://[::1]/a.png, ADDRESS_REFUSED",
            "http://[::ffff:7f00:1]/a.png, ADDRESS_REFUSED",
            "http://[64:ff9b::a9fe:a9fe]/a.png, ADDRESS_REFUSED",
            "http://169.254.169.254/latest/meta-data, ADDRESS_REFUSED",
            "ftp://example.com/a.png, SCHEME_REFUSED",
            "jar:file:/tmp/x.jar!/a.png, SCHEME_REFUSED",
            "gopher://example.com/, SCHEME_REFUSED",
            "http:///a.png, HOST_INVALID",
            "http://exa_mple.com/a.png, HOST_INVALID",
            "http://-bad-.com/a.png, HOST_INVALID"})
    void refusesBeforeAnyConnection(String url, Code expected) {
        assertThat(refusal(url, true)).isEqualTo(expected);
    }

    @Test
    void refusesOverlongUrlsAndHostsWithoutLookingThemUp() {
        assertThat(refusal("http://example.com/" + "a".repeat(10_000), true)).isEqualTo(Code.URL_TOO_LONG);
        assertThat(refusal("http://" + ("a".repeat(60) + ".").repeat(5) + "com/", true))
                .isEqualTo(Code.HOST_INVALID);
        assertThat(refusal("http://" + "a".repeat(64) + ".com/", true)).isEqualTo(Code.HOST_INVALID);
        assertThat(lookups).hasValue(0);
    }

    @Test
    void invalidUrisAreTypedRefusals() {
        assertThatThrownBy(() -> policy.parse("http://exa mple.com/a.png", false))
                .isInstanceOf(ImageFetchException.class).extracting(e -> ((ImageFetchException) e).code()).isEqualTo(Code.URL_INVALID);
        assertThatThrownBy(() -> policy.parse("http://[::1/a", true))
                .isInstanceOf(ImageFetchException.class).extracting(e -> ((ImageFetchException) e).code()).isEqualTo(Code.REDIRECT_INVALID);
    }

    @Test
    void trustedOriginIsExemptOnTheFirstRequestOnly() throws Exception {
        UrlPolicy.Target first = policy.check(URI.create("http://images.internal:8000/a.png"), true);
        assertThat(first.address().getHostAddress()).isEqualTo("93.184.216.34");
        UrlPolicy trusting = new UrlPolicy(FetchSettings.builder().trustedOrigins(List.of("http://loopback.test:8080")).build(), resolver);
        assertThat(trusting.check(URI.create("http://loopback.test:8080/a.png"), true).address().isLoopbackAddress()).isTrue();
        assertThatThrownBy(() -> trusting.check(URI.create("http://loopback.test:8080/a.png"), false))
                .extracting(e -> ((ImageFetchException) e).code()).isEqualTo(Code.ADDRESS_REFUSED);
        assertThatThrownBy(() -> trusting.check(URI.create("http://loopback.test:8081/a.png"), true))
                .extracting(e -> ((ImageFetchException) e).code()).isEqualTo(Code.PORT_REFUSED);
    }

    @Test
    void publicUrlPassesAndNamesTheCheckedAddress() throws Exception {
        UrlPolicy.Target target = policy.check(URI.create("https://cdn.example.com/img/a.png?w=300"), true);
        assertThat(target.port()).isEqualTo(443);
        assertThat(target.host()).isEqualTo("cdn.example.com");
        assertThat(target.address().getHostAddress()).isEqualTo("93.184.216.34");
        assertThat(lookups).hasValue(1);
    }
}
