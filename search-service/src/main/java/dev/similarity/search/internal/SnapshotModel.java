package dev.similarity.search.internal;

import dev.similarity.index.snapshot.SnapshotManifest;

/**
 * The model a snapshot's vectors come from: its qualified id ({@code id@version}) and dimension.
 * Scores of two snapshots are comparable only when their models are equal.
 */
public record SnapshotModel(String modelId, int dimension) {

  public static SnapshotModel of(SnapshotManifest manifest) {
    return new SnapshotModel(manifest.modelId(), manifest.dimension());
  }

  @Override
  public String toString() {
    return modelId + " (" + dimension + " dimensions)";
  }
}
