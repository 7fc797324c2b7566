package dev.similarity.index.snapshot;

import java.io.IOException;

/** A stored snapshot file does not match its manifest's size or checksum. */
public final class SnapshotCorruptException extends IOException {
  private static final long serialVersionUID = 1L;

  public SnapshotCorruptException(String message) {
    super(message);
  }
}
