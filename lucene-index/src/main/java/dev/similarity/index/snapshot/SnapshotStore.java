package dev.similarity.index.snapshot;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.similarity.index.snapshot.SnapshotManifest.SnapshotFile;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystem.WriteMode;
import org.apache.flink.core.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A folder of published shard snapshots on any Flink {@link FileSystem} (a local folder, {@code
 * s3://}, {@code hdfs://}). Layout, per shard:
 *
 * <pre>
 * &lt;root&gt;/shard-0003/blobs/_0.cfs-3f2a9c0d1b7e4a55          file contents, named by content
 * &lt;root&gt;/shard-0003/manifests/00000000000000000042.json    one per snapshot, by checkpoint id
 * </pre>
 *
 * <p>Invariants: a blob's name fixes its content, so writing one twice is harmless and a blob is
 * shared by every snapshot that has the same file; a stored blob is reused only after its bytes
 * were checked against that content's SHA-256 (a damaged one is written again); a manifest is
 * written (to a hidden temporary name, then renamed) only after all its blobs exist, so a visible
 * manifest always describes a complete snapshot; retention deletes manifests before the blobs only
 * they used. Names starting with '.' are unfinished writes: readers ignore them, a failed write
 * removes its own, and retention removes any older than its minimum age.
 *
 * <p>A file that is missing reads as {@link FileNotFoundException} (the cause of the {@link
 * UncheckedIOException}) on every file system, also on object stores whose clients report it
 * otherwise.
 *
 * <p>One writer per shard at a time (the Flink subtask owning the shard); any number of readers.
 */
public final class SnapshotStore {

  private static final Logger LOG = LoggerFactory.getLogger(SnapshotStore.class);
  private static final String BLOBS = "blobs";
  private static final String MANIFESTS = "manifests";
  private static final String MANIFEST_SUFFIX = ".json";
  /** Unfinished writes: {@code .<name>.<uuid>.tmp}, renamed to {@code <name>} when complete. */
  private static final String TEMPORARY_SUFFIX = ".tmp";
  private static final String MISSING = "is missing";
  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(SerializationFeature.INDENT_OUTPUT)
          .build();

  private final Path root;
  private final FileSystem fs;

  private SnapshotStore(Path root, FileSystem fs) {
    this.root = root;
    this.fs = fs;
  }

  /**
   * The store at {@code location}: a Flink file system URI ({@code file:///srv/snapshots}, {@code
   * s3://bucket/snapshots}) or a local path. The folder need not exist yet.
   */
  public static SnapshotStore at(String location) {
    Objects.requireNonNull(location, "location");
    if (location.isBlank()) {
      throw new IllegalArgumentException("snapshot store location is blank");
    }
    Path root =
        location.contains("://")
            ? new Path(location)
            : new Path(java.nio.file.Path.of(location).toAbsolutePath().toUri());
    try {
      return new SnapshotStore(root, root.getFileSystem());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "no file system for snapshot store " + location + ": " + e.getMessage(), e);
    }
  }

  /** Where the store is, as a URI. */
  public String location() {
    return root.toUri().toString();
  }

  // ---- writing -----------------------------------------------------------------------------

  /**
   * Stores one file's content under its content-addressed name. A blob of that name already in the
   * store is kept only if its bytes have this content's SHA-256 (it is read back to check); one
   * damaged in the store is replaced.
   */
  public SnapshotFile putBlob(int shard, String fileName, byte[] content) {
    String sha = sha256(content);
    SnapshotFile file =
        new SnapshotFile(fileName, SnapshotFile.blobName(fileName, sha), content.length, sha);
    Path target = blobPath(shard, file);
    try {
      Optional<String> damage = fs.exists(target) ? stored(target, file) : Optional.of(MISSING);
      if (damage.isEmpty()) {
        return file;
      }
      if (!damage.get().equals(MISSING)) {
        LOG.warn("snapshot store {}: stored blob {} {}; writing it again", location(), target, damage.get());
      }
      writeAtomically(target, content, true);
      return file;
    } catch (IOException e) {
      throw failure("write blob " + target, e);
    }
  }

  /**
   * Reads the stored blob of {@code file} back and checks its size and SHA-256 against {@code
   * file}, without holding it in memory.
   *
   * @return empty when the blob is intact, else what is wrong ("is missing", "is 12 bytes, not
   *     14", "has SHA-256 ..., not ...")
   * @throws UncheckedIOException if the store cannot be read
   */
  public Optional<String> verifyBlob(int shard, SnapshotFile file) {
    Path path = blobPath(shard, file);
    try {
      return stored(path, file);
    } catch (IOException e) {
      throw failure("verify blob " + path, e);
    }
  }

  /** What is wrong with the blob at {@code path}, read back and hashed; {@value #MISSING} if absent. */
  private Optional<String> stored(Path path, SnapshotFile file) throws IOException {
    try {
      return check(path, file);
    } catch (FileNotFoundException e) {
      return Optional.of(MISSING);
    }
  }

  private Optional<String> check(Path path, SnapshotFile file) throws IOException {
    MessageDigest digest = sha256Digest();
    long size = 0;
    try (InputStream in = new DigestInputStream(fs.open(path), digest)) {
      byte[] buffer = new byte[64 * 1024];
      for (int n; (n = in.read(buffer)) != -1; ) {
        size += n;
      }
    } catch (IOException e) {
      throw missingOr(path, e);
    }
    if (size != file.size()) {
      return Optional.of("is " + size + " bytes, not " + file.size());
    }
    String sha = HexFormat.of().formatHex(digest.digest());
    return sha.equals(file.sha256())
        ? Optional.empty()
        : Optional.of("has SHA-256 " + sha + ", not " + file.sha256());
  }

  /**
   * Makes a snapshot visible. Call only after {@link #putBlob} stored every file it lists.
   *
   * @throws IllegalStateException if a listed blob is missing
   */
  public void publish(SnapshotManifest manifest) {
    Path target = manifestPath(manifest.shard(), manifest.checkpointId());
    try {
      for (SnapshotFile file : manifest.files()) {
        Path blob = blobPath(manifest.shard(), file);
        if (!fs.exists(blob)) {
          throw new IllegalStateException(
              "cannot publish snapshot of shard " + manifest.shard() + " at checkpoint "
                  + manifest.checkpointId() + ": blob " + blob + " is missing");
        }
      }
      if (fs.exists(target)) {
        return; // the same checkpoint's snapshot, published by an earlier attempt
      }
      writeAtomically(target, JSON.writeValueAsBytes(manifest), false);
    } catch (IOException e) {
      throw failure("publish manifest " + target, e);
    }
  }

  /**
   * Removes the shard's manifests of checkpoint {@code checkpointId} and later: written by another
   * lineage of the job (a job started afresh over this store, or one restored from an older
   * savepoint), they are not part of the current history and would shadow its snapshots, since readers
   * take the highest checkpoint id. Their blobs go with the next retention pass.
   *
   * @return how many manifests were removed
   */
  public int removeManifestsFrom(int shard, long checkpointId) {
    int removed = 0;
    try {
      for (long id : checkpoints(shard)) {
        if (id >= checkpointId && fs.delete(manifestPath(shard, id), false)) {
          removed++;
        }
      }
      return removed;
    } catch (IOException e) {
      throw failure("remove manifests of shard " + shard + " from checkpoint " + checkpointId, e);
    }
  }

  /**
   * Writes {@code content} to a hidden temporary name next to {@code target}, then renames it, so
   * {@code target} appears complete or not at all. The temporary file is removed if anything fails.
   *
   * @param replace whether an existing {@code target} is replaced; otherwise it is kept (the same
   *     name was written meanwhile, by a retry of the same write)
   */
  private void writeAtomically(Path target, byte[] content, boolean replace) throws IOException {
    Path parent = target.getParent();
    fs.mkdirs(parent);
    Path temporary = new Path(parent, "." + target.getName() + "." + UUID.randomUUID() + TEMPORARY_SUFFIX);
    try {
      try (FSDataOutputStream out = fs.create(temporary, WriteMode.NO_OVERWRITE)) {
        out.write(content);
        out.sync();
      }
      if (fs.rename(temporary, target)) {
        return;
      }
      // Object stores and HDFS refuse to rename onto an existing name; local folders replace it.
      if (fs.exists(target)) {
        if (!replace) {
          removeTemporary(temporary, null);
          return;
        }
        if (fs.delete(target, false) && fs.rename(temporary, target)) {
          return;
        }
      }
      throw new IOException("could not rename " + temporary + " to " + target);
    } catch (IOException | RuntimeException e) {
      removeTemporary(temporary, e);
      throw e;
    }
  }

  private void removeTemporary(Path temporary, Exception failure) {
    try {
      if (fs.exists(temporary)) {
        fs.delete(temporary, false);
      }
    } catch (IOException e) {
      if (failure != null) {
        failure.addSuppressed(e);
      } else {
        LOG.warn("snapshot store {}: could not remove {}; retention removes it later", location(), temporary, e);
      }
    }
  }

  // ---- reading -----------------------------------------------------------------------------

  /** Shards that have a folder in the store, ascending. */
  public List<Integer> shards() {
    List<Integer> shards = new ArrayList<>();
    for (FileStatus status : list(root)) {
      String name = status.getPath().getName();
      if (status.isDir() && name.matches("shard-\\d{4,}")) {
        shards.add(Integer.parseInt(name.substring("shard-".length())));
      }
    }
    shards.sort(Comparator.naturalOrder());
    return shards;
  }

  /** Checkpoint ids of the shard's published snapshots, ascending. */
  public List<Long> checkpoints(int shard) {
    return new ArrayList<>(manifestFiles(shard).keySet());
  }

  /** The shard's published manifests as listed: checkpoint id -> file status, ascending. */
  private TreeMap<Long, FileStatus> manifestFiles(int shard) {
    TreeMap<Long, FileStatus> manifests = new TreeMap<>();
    for (FileStatus status : list(shardDir(shard, MANIFESTS))) {
      String name = status.getPath().getName();
      if (!name.startsWith(".") && name.endsWith(MANIFEST_SUFFIX)) {
        try {
          manifests.put(Long.parseLong(name.substring(0, name.length() - MANIFEST_SUFFIX.length())), status);
        } catch (NumberFormatException e) {
          // not ours; ignore
        }
      }
    }
    return manifests;
  }

  /** The shard's newest published snapshot, if any. */
  public Optional<SnapshotManifest> latest(int shard) {
    List<Long> ids = checkpoints(shard);
    for (int i = ids.size() - 1; i >= 0; i--) {
      try {
        return Optional.of(manifest(shard, ids.get(i)));
      } catch (UncheckedIOException e) {
        if (!(e.getCause() instanceof FileNotFoundException)) {
          throw e;
        }
        // removed by retention since it was listed; try the next older one
      }
    }
    return Optional.empty();
  }

  /** The manifest of the shard's snapshot at {@code checkpointId}. */
  public SnapshotManifest manifest(int shard, long checkpointId) {
    Path path = manifestPath(shard, checkpointId);
    try (InputStream in = fs.open(path)) {
      return JSON.readValue(in, SnapshotManifest.class);
    } catch (IOException e) {
      throw failure("read manifest " + path, missingOr(path, e));
    }
  }

  /**
   * A snapshot file's content, checked against the manifest's size and SHA-256.
   *
   * @throws SnapshotCorruptException if the stored bytes do not match
   */
  public byte[] readBlob(int shard, SnapshotFile file) throws SnapshotCorruptException {
    Path path = blobPath(shard, file);
    byte[] content;
    try (InputStream in = fs.open(path)) {
      content = in.readAllBytes();
    } catch (IOException e) {
      throw failure("read blob " + path, missingOr(path, e));
    }
    if (content.length != file.size()) {
      throw new SnapshotCorruptException(
          path + " is " + content.length + " bytes; its manifest says " + file.size());
    }
    String sha = sha256(content);
    if (!sha.equals(file.sha256())) {
      throw new SnapshotCorruptException(
          path + " has SHA-256 " + sha + "; its manifest says " + file.sha256());
    }
    return content;
  }

  // ---- retention ---------------------------------------------------------------------------

  /**
   * Removes the shard's snapshots that the policy no longer keeps, then the blobs no kept snapshot
   * uses. A snapshot is kept if it is among the newest {@code keepLatest} or younger than {@code
   * minAge}; a blob is kept if a kept snapshot or {@code inUse} (the writer's unpublished uploads)
   * names it, or it is younger than {@code minAge}. Hidden temporary files older than {@code
   * minAge} are left by writes that died and are removed too.
   *
   * @param known manifests the caller already holds, by checkpoint id (the writer's own), so that
   *     only the others are read from the store
   */
  public RetentionOutcome applyRetention(
      int shard, RetentionPolicy policy, Instant now, Set<String> inUse, Map<Long, SnapshotManifest> known) {
    Instant youngest = now.minus(policy.minAge());
    Set<String> keptBlobs = new HashSet<>(inUse);
    List<Long> removed = new ArrayList<>();
    try {
      int rank = 0;
      for (Map.Entry<Long, FileStatus> listed : manifestFiles(shard).descendingMap().entrySet()) {
        long id = listed.getKey();
        boolean newest = ++rank <= policy.keepLatest();
        if (newest || Instant.ofEpochMilli(listed.getValue().getModificationTime()).isAfter(youngest)) {
          try {
            SnapshotManifest manifest = known.containsKey(id) ? known.get(id) : manifest(shard, id);
            for (SnapshotFile file : manifest.files()) {
              keptBlobs.add(file.blob());
            }
          } catch (UncheckedIOException e) {
            // vanished while listed: nothing of it to keep
          }
        } else if (fs.delete(listed.getValue().getPath(), false)) {
          removed.add(id);
        }
      }
      int temporariesRemoved = 0;
      for (FileStatus manifestFolderEntry : list(shardDir(shard, MANIFESTS))) {
        if (isStaleTemporary(manifestFolderEntry, youngest) && fs.delete(manifestFolderEntry.getPath(), false)) {
          temporariesRemoved++;
        }
      }
      int blobsRemoved = 0;
      long bytesRemoved = 0;
      for (FileStatus blob : list(shardDir(shard, BLOBS))) {
        String name = blob.getPath().getName();
        boolean young = Instant.ofEpochMilli(blob.getModificationTime()).isAfter(youngest);
        if (!keptBlobs.contains(name) && !young && fs.delete(blob.getPath(), false)) {
          if (isStaleTemporary(blob, youngest)) {
            temporariesRemoved++;
          } else {
            blobsRemoved++;
            bytesRemoved += blob.getLen();
          }
        }
      }
      return new RetentionOutcome(removed, blobsRemoved, bytesRemoved, temporariesRemoved);
    } catch (IOException e) {
      throw failure("apply retention to shard " + shard, e);
    }
  }

  private static boolean isStaleTemporary(FileStatus status, Instant youngest) {
    String name = status.getPath().getName();
    return !status.isDir() && name.startsWith(".") && name.endsWith(TEMPORARY_SUFFIX)
        && !Instant.ofEpochMilli(status.getModificationTime()).isAfter(youngest);
  }

  /**
   * What one retention pass removed.
   *
   * @param temporaryFilesRemoved hidden temporary files left by writes that died
   */
  public record RetentionOutcome(
      List<Long> removedCheckpoints, int blobsRemoved, long bytesRemoved, int temporaryFilesRemoved) {
    public RetentionOutcome {
      removedCheckpoints = List.copyOf(removedCheckpoints);
    }

    public int manifestsRemoved() {
      return removedCheckpoints.size();
    }
  }

  /**
   * Which snapshots to keep.
   *
   * @param keepLatest the newest this many are always kept, at least 1
   * @param minAge snapshots and blobs younger than this are kept: a reader that started loading a
   *     snapshot has at least this long to finish
   */
  public record RetentionPolicy(int keepLatest, Duration minAge) {
    public RetentionPolicy {
      if (keepLatest < 1) {
        throw new IllegalArgumentException("keepLatest is " + keepLatest + "; keep at least 1");
      }
      if (minAge == null || minAge.isNegative()) {
        throw new IllegalArgumentException("minAge is " + minAge + "; it must be 0 or more");
      }
    }
  }

  // ---- helpers -----------------------------------------------------------------------------

  private Path shardDir(int shard, String part) {
    return new Path(new Path(root, String.format("shard-%04d", shard)), part);
  }

  private Path blobPath(int shard, SnapshotFile file) {
    return new Path(shardDir(shard, BLOBS), file.blob());
  }

  private Path manifestPath(int shard, long checkpointId) {
    return new Path(shardDir(shard, MANIFESTS), String.format("%020d", checkpointId) + MANIFEST_SUFFIX);
  }

  private List<FileStatus> list(Path dir) {
    try {
      if (!fs.exists(dir)) {
        return List.of();
      }
      FileStatus[] statuses = fs.listStatus(dir);
      return statuses == null ? List.of() : List.of(statuses);
    } catch (FileNotFoundException e) {
      return List.of();
    } catch (IOException e) {
      throw failure("list " + dir, e);
    }
  }

  /**
   * {@code e}, or a {@link FileNotFoundException} caused by it when {@code path} does not exist:
   * object store clients report a missing object in their own ways, often only on the first read.
   */
  private IOException missingOr(Path path, IOException e) {
    if (e instanceof FileNotFoundException) {
      return e;
    }
    try {
      if (!fs.exists(path)) {
        FileNotFoundException missing = new FileNotFoundException(path + " does not exist");
        missing.initCause(e);
        return missing;
      }
    } catch (IOException unknown) {
      e.addSuppressed(unknown);
    }
    return e;
  }

  static String sha256(byte[] content) {
    return HexFormat.of().formatHex(sha256Digest().digest(content));
  }

  private static MessageDigest sha256Digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private UncheckedIOException failure(String action, IOException e) {
    return new UncheckedIOException(
        "snapshot store " + location() + ": " + action + " failed: " + e.getMessage(), e);
  }

  @Override
  public String toString() {
    return "SnapshotStore[" + location() + "]";
  }
}
