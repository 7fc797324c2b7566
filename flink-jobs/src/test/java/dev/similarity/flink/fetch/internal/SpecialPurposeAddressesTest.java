package dev.similarity.flink.fetch.internal;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetAddress;
import java.net.UnknownHostException;

import static org.assertj.core.api.Assertions.assertThat;

class SpecialPurposeAddressesTest {

    /** One address inside every block of the IANA IPv4 and IPv6 special-purpose registries, and multicast. */
    @ParameterizedTest
    @ValueSource(strings = {
            "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.255.0.9",
            "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.1", "192.0.0.9", "192.0.0.170", "192.0.2.10",
            "192.31.196.1", "192.52.193.1", "192.88.99.1", "192.168.1.1", "192.175.48.1", "198.18.0.1", "198.19.255.255",
            "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.254", "255.255.255.255",
            "::", "::1", "64:ff9b:1::1", "100::1", "100:0:0:1::1", "2001:2::1", "2001:10::1", "2001:20::1", "2001:db8::1",
            "2002:0808:0808::1", "2620:4f:8000::1", "3fff::1", "5f00::1", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1",
            "ff02::1"})
    void refusesEveryRegisteredSpecialPurposeBlock(String address) throws UnknownHostException {
        assertThat(SpecialPurposeAddresses.refusal(InetAddress.getByName(address))).isPresent();
    }

    @ParameterizedTest
    @ValueSource(strings = {"8.8.8.8", "93.184.216.34", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.15.255.255",
            "172.32.0.1", "192.0.3.1", "198.17.255.255", "198.20.0.1", "223.255.255.255", "2606:4700::1111",
            "2a00:1450:4001::200e", "64:ff9b::808:808"})
    void passesPublicAddressesAndNat64OfPublicOnes(String address) throws UnknownHostException {
        assertThat(SpecialPurposeAddresses.refusal(InetAddress.getByName(address))).isEmpty();
    }

    /** IPv6 forms that carry an IPv4 address are judged by the address inside, and the reason names it. */
    @ParameterizedTest
    @CsvSource({
            "::127.0.0.1, 127.0.0.1",               // IPv4-compatible
            "::ffff:169.254.169.254, 169.254.169.254", // IPv4-mapped (the JDK makes it IPv4)
            "64:ff9b::7f00:1, 127.0.0.1",           // NAT64 well-known prefix
            "64:ff9b::a9fe:a9fe, 169.254.169.254",
            "2002:7f00:1::, 127.0.0.1",             // 6to4
            "2002:c0a8:101::1, 192.168.1.1",
            "2001:0:4136:e378:8000:63bf:f5ff:fffe, 10.0.0.1"}) // Teredo: client 10.0.0.1, bits inverted
    void judgesEmbeddedIpv4ByTheAddressInside(String v6, String inner) throws UnknownHostException {
        assertThat(SpecialPurposeAddresses.refusal(InetAddress.getByName(v6))).get().asString().contains(inner);
    }

    @ParameterizedTest
    @ValueSource(strings = {"::8.8.8.8", "2002:808:808::1", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"})
    void refusesDeprecatedAndTunnelFormsEvenOfPublicAddresses(String v6) throws UnknownHostException {
        assertThat(SpecialPurposeAddresses.refusal(InetAddress.getByName(v6))).isPresent();
    }
}
