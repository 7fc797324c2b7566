package dev.similarity.embedding.internal;

import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.data.FashionMnist;
import java.io.IOException;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Run in a fresh JVM by {@link OfflineNativesIT}: records every network destination the JVM
 * would contact while loading the model and embedding one image, and which TensorFlow libraries
 * got mapped. Args: model folder, report file.
 */
public final class OfflineProbe {

  private OfflineProbe() {}

  public static void main(String[] args) throws IOException {
    List<String> attempts = Collections.synchronizedList(new ArrayList<>());
    // Every URLConnection, HttpClient request and plain Socket asks the default selector first.
    ProxySelector.setDefault(new ProxySelector() {
      @Override
      public List<Proxy> select(URI uri) {
        attempts.add(uri.toString());
        return List.of(Proxy.NO_PROXY);
      }

      @Override
      public void connectFailed(URI uri, SocketAddress address, IOException e) {
        attempts.add("failed " + uri);
      }
    });
    List<String> report = new ArrayList<>();
    try (ImageEmbedder embedder = ImageEmbedder.load(
        ImageEmbedderConfig.builder().modelDir(Path.of(args[0])).build())) {
      float[] v = embedder.embed(FashionMnist.load(FashionMnist.Split.TEST).png(0));
      report.add("dimension=" + v.length);
    } catch (Exception e) {
      report.add("error=" + e);
    }
    report.add("library_path=" + System.getProperty("TENSORFLOW_LIBRARY_PATH"));
    report.add("offline=" + System.getProperty("ai.djl.offline"));
    for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
      int slash = line.indexOf('/');
      if (slash >= 0 && line.contains("tensorflow") && line.contains(".so")) {
        String lib = "mapped=" + line.substring(slash);
        if (!report.contains(lib)) {
          report.add(lib);
        }
      }
    }
    for (String attempt : attempts) {
      report.add("network=" + attempt);
    }
    Files.write(Path.of(args[1]), report);
  }
}
