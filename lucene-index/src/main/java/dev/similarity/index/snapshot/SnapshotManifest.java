package dev.similarity.index.snapshot;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What one published snapshot of one shard holds: the Lucene commit's files, by content, and where
 * the commit came from. A manifest is written only after every file it lists is in the store, so a
 * reader that finds a manifest finds a complete snapshot (until retention removes it).
 *
 * @param formatVersion {@value #FORMAT_VERSION}; readers refuse others
 * @param shard the shard, 0 to shardCount - 1
 * @param shardCount how many shards the index has (readers load one snapshot of each)
 * @param checkpointId the completed Flink checkpoint whose state the snapshot equals
 * @param luceneGeneration the commit's generation (the N of segments_N)
 * @param segmentsFileName the commit point, segments_N, one of {@code files}
 * @param documentCount live Lucene documents in the shard: product and image nodes, and the
 *     members of shared images (a reader checks it against the commit it opens)
 * @param modelId the embedding model (id:version) whose vectors the shard holds
 * @param dimension the vectors' length
 * @param createdAt when the snapshot was taken
 * @param files every file of the commit
 */
public record SnapshotManifest(
    int formatVersion,
    int shard,
    int shardCount,
    long checkpointId,
    long luceneGeneration,
    String segmentsFileName,
    int documentCount,
    String modelId,
    int dimension,
    Instant createdAt,
    List<SnapshotFile> files) {

  public static final int FORMAT_VERSION = 1;

  public SnapshotManifest {
    List<String> problems = new ArrayList<>();
    if (formatVersion != FORMAT_VERSION) {
      problems.add("formatVersion is " + formatVersion + "; this reader knows " + FORMAT_VERSION);
    }
    if (shardCount < 1 || shard < 0 || shard >= shardCount) {
      problems.add("shard " + shard + " of " + shardCount + " is out of range");
    }
    if (checkpointId < 0) {
      problems.add("checkpointId is " + checkpointId);
    }
    if (documentCount < 0) {
      problems.add("documentCount is " + documentCount);
    }
    if (dimension < 1) {
      problems.add("dimension is " + dimension);
    }
    if (modelId == null || modelId.isBlank()) {
      problems.add("modelId is missing");
    }
    Objects.requireNonNull(createdAt, "createdAt");
    files = List.copyOf(Objects.requireNonNull(files, "files"));
    if (files.stream().noneMatch(f -> f.name().equals(segmentsFileName))) {
      problems.add("segmentsFileName " + segmentsFileName + " is not among the files");
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid snapshot manifest: " + String.join("; ", problems));
    }
  }

  /** Bytes of all files. */
  @JsonIgnore
  public long totalBytes() {
    return files.stream().mapToLong(SnapshotFile::size).sum();
  }

  /**
   * One file of a snapshot.
   *
   * @param name the Lucene file name (as the commit names it)
   * @param blob the content-addressed name it is stored under: {@code name-<first 16 hex of sha256>}
   * @param size length in bytes
   * @param sha256 the SHA-256 of the content, lowercase hex; readers check it
   */
  public record SnapshotFile(String name, String blob, long size, String sha256) {
    public SnapshotFile {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(blob, "blob");
      Objects.requireNonNull(sha256, "sha256");
      if (size < 0) {
        throw new IllegalArgumentException("size of " + name + " is " + size);
      }
    }

    /** The blob name for a file with this content hash. */
    public static String blobName(String name, String sha256) {
      return name + "-" + sha256.substring(0, 16);
    }
  }
}
