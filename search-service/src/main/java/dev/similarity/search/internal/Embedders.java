package dev.similarity.search.internal;

import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.index.snapshot.SnapshotManifest;
import java.util.ArrayList;
import java.util.List;

/**
 * The embedding models the service has loaded for image search, one per qualified model id; the
 * one used for an upload is the one the served snapshots were built with, so the service follows
 * the job when it switches models. Thread-safe (immutable; each embedder serialises its calls).
 */
public final class Embedders implements AutoCloseable {

  private final List<ImageEmbedder> embedders;

  /** @param embedders loaded models with distinct qualified ids; closed by {@link #close} */
  public Embedders(List<ImageEmbedder> embedders) {
    this.embedders = List.copyOf(embedders);
  }

  public boolean isEmpty() {
    return embedders.isEmpty();
  }

  /** The embedder of the model and dimension {@code manifest} names, or null when none is loaded. */
  public ImageEmbedder forModel(SnapshotManifest manifest) {
    if (manifest == null) {
      return null;
    }
    for (ImageEmbedder embedder : embedders) {
      if (embedder.modelId().equals(manifest.modelId()) && embedder.dimension() == manifest.dimension()) {
        return embedder;
      }
    }
    return null;
  }

  /** The loaded models: {@code id@version (N dimensions)}, in load order. */
  public List<String> describe() {
    List<String> out = new ArrayList<>();
    for (ImageEmbedder embedder : embedders) {
      out.add(embedder.modelId() + " (" + embedder.dimension() + " dimensions)");
    }
    return out;
  }

  /** The largest upload any loaded model accepts, bytes. */
  public long maxImageBytes() {
    long max = 0;
    for (ImageEmbedder embedder : embedders) {
      max = Math.max(max, embedder.config().maxImageBytes());
    }
    return max;
  }

  @Override
  public void close() {
    embedders.forEach(ImageEmbedder::close);
  }
}
