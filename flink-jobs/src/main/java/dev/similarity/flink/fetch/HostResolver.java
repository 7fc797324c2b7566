package dev.similarity.flink.fetch;

import java.io.Serializable;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Resolves a host name to its addresses; the fetcher checks them and connects to one of those. */
@FunctionalInterface
public interface HostResolver extends Serializable {

    /** The JVM's resolver ({@link InetAddress#getAllByName}). */
    HostResolver SYSTEM = InetAddress::getAllByName;

    InetAddress[] resolve(String host) throws UnknownHostException;
}
