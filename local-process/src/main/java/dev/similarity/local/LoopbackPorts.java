package dev.similarity.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Collection;
import java.util.Optional;

/** Ports on 127.0.0.1, where every local server listens. */
public final class LoopbackPorts {

  public static final String HOST = "127.0.0.1";

  private LoopbackPorts() {}

  /** A port nothing listens on right now. Another process may take it before we bind it; the server's start then fails and says so. */
  public static int pickFree() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find a free port on " + HOST, e);
    }
  }

  /** A free port that is none of {@code taken} (ports this start has already handed out). */
  public static int pickFreeOtherThan(Collection<Integer> taken) {
    int port;
    do {
      port = pickFree();
    } while (taken.contains(port));
    return port;
  }

  public static boolean isFree(int port) {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress(InetAddress.getByName(HOST), port), 1);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public static boolean acceptsConnections(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(HOST, port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * The port a server starts on: {@code requested} when not 0 (it must be free); else the previous
   * start's port if it is free and not {@code taken}, so clients and bookmarks keep their address;
   * else any free port that is not {@code taken}.
   *
   * @param setting the builder setting, for the error message, e.g. {@code restPort}
   * @param otherChoice how a person picks another port, e.g. {@code KAFKA_PORT for scripts/kafka-local}
   * @throws IllegalStateException if the requested port is in use, naming the setting and {@code otherChoice}
   */
  public static int choose(String setting, int requested, Optional<Integer> previous, Collection<Integer> taken, String otherChoice) {
    if (requested != 0) {
      if (!isFree(requested)) {
        throw new IllegalStateException(setting + " " + requested + " on " + HOST + " is already in use;"
            + " stop whatever listens there, choose another port (" + otherChoice + "), or use 0 for a free one");
      }
      return requested;
    }
    return previous.filter(port -> !taken.contains(port) && isFree(port)).orElseGet(() -> pickFreeOtherThan(taken));
  }
}
