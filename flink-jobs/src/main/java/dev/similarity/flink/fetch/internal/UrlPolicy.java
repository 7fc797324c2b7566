package dev.similarity.flink.fetch.internal;

import dev.similarity.flink.fetch.FetchSettings;
import dev.similarity.flink.fetch.HostResolver;
import dev.similarity.flink.fetch.ImageFetchException;
import dev.similarity.flink.fetch.ImageFetchException.Code;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Decides, before any connection, whether an HTTP(S) URL may be requested, and to which address.
 * The address returned is the one checked; the caller connects to it and to nothing else, so a
 * second name resolution cannot undo the check (DNS rebinding).
 *
 * <p>The policy, in order: at most {@code fetch.max-url-length} characters; a valid URI; scheme http
 * or https; no userinfo; a host that is a DNS name (RFC 1123 labels, at most 253 characters) or an
 * address literal in canonical form (a dotted quad, or IPv6 in brackets); a name whose last label is
 * numeric ({@code 2130706433}, {@code 0x7f.1}, {@code 127.1}) is refused, since URL parsers disagree
 * on what address it means; a port in {@code fetch.allowed-ports}; and every address the host
 * resolves to outside {@link SpecialPurposeAddresses}. A URL of a {@code fetch.trusted-origins}
 * origin is exempt from the port and address rules on the first request only, never on a redirect.
 */
public final class UrlPolicy {

    private static final Pattern DOTTED_QUAD = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern NUMERIC_LABEL = Pattern.compile("(0x[0-9a-f]*|[0-9]+)");
    private static final Pattern NUMERIC_HOST = Pattern.compile("[0-9a-fA-FxX.]*\\.(0[xX][0-9a-fA-F]*|[0-9]+)\\.?|0[xX][0-9a-fA-F]*|[0-9]+");

    /** An HTTP(S) request the policy allows: the URI, and the one address to connect to. */
    public record Target(URI uri, String scheme, String host, int port, InetAddress address) {
        public String origin() {
            return scheme + "://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        }
    }

    private final FetchSettings settings;
    private final HostResolver resolver;

    public UrlPolicy(FetchSettings settings, HostResolver resolver) {
        this.settings = settings;
        this.resolver = resolver;
    }

    /** Parses a URL from a catalogue event or a {@code Location} header; refuses what is not a URI. */
    public URI parse(String url, boolean redirect) throws ImageFetchException {
        if (url.length() > settings.maxUrlLength()) {
            throw new ImageFetchException(Code.URL_TOO_LONG, "URL of " + url.length() + " characters is over fetch.max-url-length ("
                    + settings.maxUrlLength() + "): " + url.substring(0, 80) + "...");
        }
        try {
            return new URI(url);
        } catch (URISyntaxException e) {
            throw new ImageFetchException(redirect ? Code.REDIRECT_INVALID : Code.URL_INVALID,
                    (redirect ? "redirect Location " : "image URL ") + url + " is not a valid URI: " + e.getReason(), e);
        }
    }

    /** The target of an HTTP(S) hop; {@code firstHop} is true only for the catalogue's own URL. */
    public Target check(URI uri, boolean firstHop) throws ImageFetchException {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw refused(Code.SCHEME_REFUSED, uri, "scheme '" + scheme + "' is not http or https"
                    + (firstHop ? "" : " (a redirect may not leave HTTP)"));
        }
        if (uri.isOpaque() || uri.getRawAuthority() == null) {
            throw refused(Code.HOST_INVALID, uri, "it has no host");
        }
        if (uri.getRawUserInfo() != null || uri.getRawAuthority().contains("@")) {
            throw refused(Code.USERINFO_REFUSED, uri, "it carries a user name or password");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            // java.net.URI leaves the host unset for names RFC 2396 does not allow, e.g. "127.1" or "0x7f.1".
            String raw = uri.getRawAuthority().replaceFirst(":\\d*$", "");
            if (NUMERIC_HOST.matcher(raw).matches()) {
                throw refused(Code.HOST_NUMERIC_NONCANONICAL, uri, "host '" + raw
                        + "' is a numeric address in a non-canonical form; write it as a dotted quad");
            }
            throw refused(Code.HOST_INVALID, uri, "its host '" + uri.getRawAuthority() + "' is not a DNS name or an IP address");
        }
        host = host.toLowerCase(Locale.ROOT);
        boolean ipv6 = host.startsWith("[");
        if (ipv6) {
            host = host.substring(1, host.length() - 1);
        } else {
            checkHostName(uri, host);
        }
        int port = uri.getPort() == -1 ? (scheme.equals("https") ? 443 : 80) : uri.getPort();
        if (port < 1 || port > 65535) {
            throw refused(Code.PORT_REFUSED, uri, "port " + port + " is out of range");
        }
        Target unresolved = new Target(uri, scheme, host, port, null);
        boolean trusted = firstHop && settings.trustedOrigins().contains(unresolved.origin());
        if (!trusted && !settings.allowedPorts().contains(port)) {
            throw refused(Code.PORT_REFUSED, uri, "port " + port + " is not in fetch.allowed-ports " + settings.allowedPorts());
        }
        InetAddress[] addresses;
        try {
            // Address literals are parsed, never looked up.
            addresses = ipv6 || DOTTED_QUAD.matcher(host).matches()
                    ? new InetAddress[] {InetAddress.getByName(ipv6 ? "[" + host + "]" : host)}
                    : resolver.resolve(host);
        } catch (UnknownHostException e) {
            throw new ImageFetchException(Code.HOST_UNRESOLVED, "host " + host + " of " + uri + " does not resolve", e);
        }
        if (addresses.length == 0) {
            throw new ImageFetchException(Code.HOST_UNRESOLVED, "host " + host + " of " + uri + " resolves to no address");
        }
        if (!trusted) {
            for (InetAddress address : addresses) {
                Optional<String> why = SpecialPurposeAddresses.refusal(address);
                if (why.isPresent()) {
                    throw refused(Code.ADDRESS_REFUSED, uri, "host " + host + " resolves to " + why.get()
                            + (firstHop ? "" : " (redirect target)"));
                }
            }
        }
        return new Target(uri, scheme, host, port, addresses[0]);
    }

    private static void checkHostName(URI uri, String host) throws ImageFetchException {
        if (DOTTED_QUAD.matcher(host).matches()) {
            return;
        }
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        if (name.length() > 253) {
            throw refused(Code.HOST_INVALID, uri, "its host name is " + name.length() + " characters, over 253 (RFC 1035)");
        }
        String[] labels = name.split("\\.", -1);
        if (NUMERIC_LABEL.matcher(labels[labels.length - 1]).matches()) {
            throw refused(Code.HOST_NUMERIC_NONCANONICAL, uri, "host '" + host
                    + "' is a numeric address in a non-canonical form; write it as a dotted quad");
        }
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                throw refused(Code.HOST_INVALID, uri, "host '" + host + "' is not a valid DNS name (RFC 1123)");
            }
        }
    }

    private static ImageFetchException refused(Code code, URI uri, String why) {
        String shown = uri.toString();
        return new ImageFetchException(code, "image URL " + (shown.length() > 200 ? shown.substring(0, 200) + "..." : shown)
                + " refused: " + why);
    }
}
