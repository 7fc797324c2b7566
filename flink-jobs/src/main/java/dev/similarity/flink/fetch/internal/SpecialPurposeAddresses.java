package dev.similarity.flink.fetch.internal;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * Classifies IP addresses an image download may not connect to: every block of the IANA IPv4 and
 * IPv6 Special-Purpose Address Registries (https://www.iana.org/assignments/iana-ipv4-special-registry,
 * https://www.iana.org/assignments/iana-ipv6-special-registry, as of 2025, RFC 6890 and its updates),
 * plus multicast (224.0.0.0/4, ff00::/8) and deprecated site-local IPv6 (fec0::/10).
 *
 * <p>An IPv6 address that carries an IPv4 address (IPv4-mapped {@code ::ffff:a.b.c.d}, IPv4-compatible
 * {@code ::a.b.c.d}, NAT64 {@code 64:ff9b::/96}, 6to4 {@code 2002::/16}, Teredo {@code 2001::/32}) is judged
 * by the IPv4 address inside first, so the reason names it. Of these only NAT64 with a public IPv4 inside
 * passes: it is how IPv6-only clusters reach IPv4 hosts (DNS64). The others are special-purpose blocks
 * (or deprecated, for IPv4-compatible) and are refused whatever they carry.
 *
 * <p>No library fits: Guava and IPAddress extract embedded IPv4 addresses but do not know the
 * documentation, benchmarking or AS112 blocks; the table below is the registries' own list.
 */
public final class SpecialPurposeAddresses {

    /** One registry entry: a prefix and the registry's name for it. */
    record Block(byte[] prefix, int bits, String name) {
        boolean contains(byte[] address) {
            if (address.length != prefix.length) return false;
            int full = bits / 8, rest = bits % 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != prefix[i]) return false;
            }
            if (rest == 0) return true;
            int mask = (0xff << (8 - rest)) & 0xff;
            return (address[full] & mask) == (prefix[full] & mask);
        }
    }

    static final List<Block> IPV4 = List.of(
            block("0.0.0.0/8", "\"this network\" (RFC 791)"),
            block("10.0.0.0/8", "private-use (RFC 1918)"),
            block("100.64.0.0/10", "shared address space, carrier-grade NAT (RFC 6598)"),
            block("127.0.0.0/8", "loopback (RFC 1122)"),
            block("169.254.0.0/16", "link-local (RFC 3927), cloud metadata services live here"),
            block("172.16.0.0/12", "private-use (RFC 1918)"),
            block("192.0.0.0/24", "IETF protocol assignments (RFC 6890)"),
            block("192.0.2.0/24", "documentation TEST-NET-1 (RFC 5737)"),
            block("192.31.196.0/24", "AS112-v4 (RFC 7535)"),
            block("192.52.193.0/24", "AMT (RFC 7450)"),
            block("192.88.99.0/24", "deprecated 6to4 relay anycast (RFC 7526)"),
            block("192.168.0.0/16", "private-use (RFC 1918)"),
            block("192.175.48.0/24", "direct delegation AS112 service (RFC 7534)"),
            block("198.18.0.0/15", "benchmarking (RFC 2544)"),
            block("198.51.100.0/24", "documentation TEST-NET-2 (RFC 5737)"),
            block("203.0.113.0/24", "documentation TEST-NET-3 (RFC 5737)"),
            block("224.0.0.0/4", "multicast (RFC 5771)"),
            block("240.0.0.0/4", "reserved (RFC 1112)"),
            block("255.255.255.255/32", "limited broadcast (RFC 8190)"));

    static final List<Block> IPV6 = List.of(
            block("::/128", "unspecified address (RFC 4291)"),
            block("::1/128", "loopback (RFC 4291)"),
            block("64:ff9b:1::/48", "local-use IPv4/IPv6 translation (RFC 8215)"),
            block("100::/64", "discard-only (RFC 6666)"),
            block("100:0:0:1::/64", "dummy IPv6 prefix (RFC 9780)"),
            block("2001::/23", "IETF protocol assignments (RFC 2928), Teredo, benchmarking, ORCHID"),
            block("2001:db8::/32", "documentation (RFC 3849)"),
            block("2002::/16", "6to4 (RFC 3056)"),
            block("2620:4f:8000::/48", "direct delegation AS112 service (RFC 7534)"),
            block("3fff::/20", "documentation (RFC 9637)"),
            block("5f00::/16", "segment routing SIDs (RFC 9602)"),
            block("fc00::/7", "unique-local (RFC 4193)"),
            block("fe80::/10", "link-local unicast (RFC 4291)"),
            block("fec0::/10", "deprecated site-local (RFC 3879)"),
            block("ff00::/8", "multicast (RFC 4291)"));

    private SpecialPurposeAddresses() {}

    /**
     * Why {@code address} may not be connected to, or empty when it is an ordinary public address.
     * The reason names the block, and the IPv4 address inside an IPv6 form that carries one.
     */
    public static Optional<String> refusal(InetAddress address) {
        byte[] bytes = address.getAddress();
        if (address instanceof Inet4Address) {
            return matching(IPV4, bytes).map(name -> address.getHostAddress() + " is " + name);
        }
        if (address instanceof Inet6Address) {
            Optional<byte[]> embedded = embeddedIpv4(bytes);
            if (embedded.isPresent()) {
                Optional<String> inner = matching(IPV4, embedded.get());
                if (inner.isPresent()) {
                    return Optional.of(address.getHostAddress() + " carries " + ipv4Text(embedded.get()) + ", which is " + inner.get());
                }
                if (isIpv4Compatible(bytes)) {
                    return Optional.of(address.getHostAddress() + " is a deprecated IPv4-compatible address (RFC 4291)");
                }
            }
            return matching(IPV6, bytes).map(name -> address.getHostAddress() + " is " + name);
        }
        return Optional.of(address + " is of an unknown address family");
    }

    /** The IPv4 address carried by an IPv6 address in one of the forms named in the class comment. */
    static Optional<byte[]> embeddedIpv4(byte[] v6) {
        int word0 = word(v6, 0), word1 = word(v6, 2);
        boolean first80Zero = word0 == 0 && word1 == 0 && word(v6, 4) == 0 && word(v6, 6) == 0 && word(v6, 8) == 0;
        if (first80Zero && (word(v6, 10) == 0xffff || isIpv4Compatible(v6))) {
            return Optional.of(slice(v6, 12, false));           // ::ffff:a.b.c.d, ::a.b.c.d
        }
        if (word0 == 0x0064 && word1 == 0xff9b && word(v6, 4) == 0 && word(v6, 6) == 0 && word(v6, 8) == 0 && word(v6, 10) == 0) {
            return Optional.of(slice(v6, 12, false));           // NAT64 64:ff9b::a.b.c.d (RFC 6052)
        }
        if (word0 == 0x2002) {
            return Optional.of(slice(v6, 2, false));            // 6to4 2002:AABB:CCDD:: (RFC 3056)
        }
        if (word0 == 0x2001 && word1 == 0x0000) {
            return Optional.of(slice(v6, 12, true));            // Teredo client, bits inverted (RFC 4380)
        }
        return Optional.empty();
    }

    private static boolean isIpv4Compatible(byte[] v6) {
        for (int i = 0; i < 12; i++) {
            if (v6[i] != 0) return false;
        }
        // ::/128 and ::1/128 are the unspecified and loopback addresses, not IPv4-compatible forms.
        return (v6[12] | v6[13] | v6[14]) != 0 || (v6[15] & 0xff) > 1;
    }

    private static Optional<String> matching(List<Block> blocks, byte[] address) {
        for (Block block : blocks) {
            if (block.contains(address)) return Optional.of(block.name());
        }
        return Optional.empty();
    }

    private static int word(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    private static byte[] slice(byte[] b, int from, boolean invert) {
        byte[] v4 = new byte[4];
        for (int i = 0; i < 4; i++) {
            v4[i] = (byte) (invert ? ~b[from + i] : b[from + i]);
        }
        return v4;
    }

    private static String ipv4Text(byte[] v4) {
        return (v4[0] & 0xff) + "." + (v4[1] & 0xff) + "." + (v4[2] & 0xff) + "." + (v4[3] & 0xff);
    }

    private static Block block(String cidr, String name) {
        int slash = cidr.indexOf('/');
        try {
            // Literal addresses only: InetAddress parses them without a name lookup.
            byte[] prefix = InetAddress.getByName(cidr.substring(0, slash)).getAddress();
            if (cidr.contains(":") && prefix.length == 4) {
                // The JDK turns ::ffff:a.b.c.d literals into IPv4; no block above is written that way.
                throw new IllegalStateException(cidr);
            }
            return new Block(prefix, Integer.parseInt(cidr.substring(slash + 1)), name);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("bad block " + cidr, e);
        }
    }
}
