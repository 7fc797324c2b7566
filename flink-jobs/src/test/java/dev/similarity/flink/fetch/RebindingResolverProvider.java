package dev.similarity.flink.fetch;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.net.spi.InetAddressResolver;
import java.net.spi.InetAddressResolverProvider;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The JVM's name resolver in this test JVM (registered in META-INF/services): names under
 * {@code rebind.test} answer a public address on their first lookup and 127.0.0.1 on every later one,
 * as a DNS-rebinding attacker's name server does; every other name goes to the built-in resolver.
 * The test JVM runs with the address cache off ({@code -Dsun.net.inetaddr.ttl=0}), so each lookup
 * reaches this resolver.
 */
public final class RebindingResolverProvider extends InetAddressResolverProvider {

    static final Map<String, AtomicInteger> LOOKUPS = new ConcurrentHashMap<>();

    @Override
    public InetAddressResolver get(Configuration configuration) {
        InetAddressResolver builtin = configuration.builtinResolver();
        return new InetAddressResolver() {
            @Override
            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                if (!host.endsWith(".rebind.test")) {
                    return builtin.lookupByName(host, policy);
                }
                int n = LOOKUPS.computeIfAbsent(host, h -> new AtomicInteger()).incrementAndGet();
                byte[] address = n == 1 ? new byte[] {93, (byte) 184, (byte) 216, 34} : new byte[] {127, 0, 0, 1};
                return Stream.of(InetAddress.getByAddress(host, address));
            }

            @Override
            public String lookupByAddress(byte[] addr) throws UnknownHostException {
                return builtin.lookupByAddress(addr);
            }
        };
    }

    @Override
    public String name() {
        return "rebinding-test-resolver";
    }
}
