package dev.similarity.index;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A durable Lucene commit of one shard index, as returned by {@link ShardIndex#commit}.
 *
 * <p>The listed files are exactly the files a reader needs to open this commit; {@code
 * segmentsFileName} (segments_N) is the commit point and names all the others. A copy of the commit
 * is complete only when every listed file has been copied with the listed size, segments_N last.
 * The next commit may delete files of this one (Lucene keeps only the last commit), so copy them
 * before committing again.
 *
 * @param generation the commit's generation (the N of segments_N), increasing with every commit
 * @param segmentsFileName the commit point file, segments_N
 * @param userData the user data stored in the commit
 * @param fileSizes every file of the commit (segments_N included) and its length in bytes, sorted by
 *     name
 * @param documentCount live Lucene documents in the commit, of every kind (product and image nodes,
 *     members of shared images): what a reader of the commit finds as {@code numDocs}
 */
public record ShardCommit(
    long generation,
    String segmentsFileName,
    Map<String, String> userData,
    Map<String, Long> fileSizes,
    int documentCount) {

  public ShardCommit {
    Objects.requireNonNull(segmentsFileName, "segmentsFileName");
    userData = Map.copyOf(userData);
    fileSizes = Collections.unmodifiableSortedMap(new TreeMap<>(fileSizes));
  }

  /** Total bytes of all files of the commit. */
  public long totalBytes() {
    return fileSizes.values().stream().mapToLong(Long::longValue).sum();
  }
}
