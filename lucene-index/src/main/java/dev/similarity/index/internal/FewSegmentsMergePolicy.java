package dev.similarity.index.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.apache.lucene.index.FilterMergePolicy;
import org.apache.lucene.index.MergePolicy;
import org.apache.lucene.index.MergeTrigger;
import org.apache.lucene.index.SegmentCommitInfo;
import org.apache.lucene.index.SegmentInfos;

/**
 * Keeps a shard at a bounded number of segments, each an HNSW graph that every search walks: one
 * big segment holding most products plus at most {@code maxSegments - 1} smaller ones.
 *
 * <p>Natural merges (after flushes and merges), in this order:
 *
 * <ul>
 *   <li>a merge is running: the segments not in it are merged into one once they number more than
 *       {@code maxSegments - 1} (the running merge's output counts as the big one);
 *   <li>the segments besides the biggest hold at least {@code fullMergeRatio} of its bytes: every
 *       segment is merged into one;
 *   <li>more than {@code maxSegments} segments: the smallest ones are merged into one so that
 *       {@code maxSegments} remain.
 * </ul>
 *
 * <p>Cost: Lucene 10.3 merges HNSW graphs by starting from the biggest graph of a segment without
 * deletions and joining the other deletion-free graphs (MergingHnswGraphBuilder); the vectors of a
 * segment with deletions are inserted one by one. Small merges touch only recent (mostly
 * deletion-free) segments; a full merge rewrites the big segment, typically with deletions, so it
 * costs about one insertion per product and happens once the small segments reach {@code
 * fullMergeRatio} of the big one: amortised about {@code 1 / fullMergeRatio} insertions per written
 * product, plus the small merges. Merges run on the scheduler's background threads, never on the
 * writer's thread.
 *
 * <p>Forced merges ({@code forceMerge}, {@code forceMergeDeletes}) and the choice of compound files
 * are the wrapped policy's.
 */
public final class FewSegmentsMergePolicy extends FilterMergePolicy {

  private final int maxSegments;
  private final double fullMergeRatio;

  /**
   * @param fallback the policy for forced merges and compound-file decisions
   * @param maxSegments segments allowed once merges finish, at least 2
   * @param fullMergeRatio bytes of the smaller segments, as a fraction of the biggest, that trigger
   *     a merge of everything into one; in (0, 1]
   */
  public FewSegmentsMergePolicy(MergePolicy fallback, int maxSegments, double fullMergeRatio) {
    super(fallback);
    if (maxSegments < 2) {
      throw new IllegalArgumentException("maxSegments is " + maxSegments + "; it must be at least 2");
    }
    if (!(fullMergeRatio > 0 && fullMergeRatio <= 1)) {
      throw new IllegalArgumentException(
          "fullMergeRatio is " + fullMergeRatio + "; it must be above 0 and at most 1");
    }
    this.maxSegments = maxSegments;
    this.fullMergeRatio = fullMergeRatio;
  }

  @Override
  public MergeSpecification findMerges(
      MergeTrigger trigger, SegmentInfos infos, MergeContext context) throws IOException {
    Set<SegmentCommitInfo> merging = context.getMergingSegments();
    List<Sized> idle = new ArrayList<>();
    for (SegmentCommitInfo info : infos) {
      if (!merging.contains(info)) {
        idle.add(new Sized(info, size(info, context)));
      }
    }
    idle.sort(Comparator.comparingLong(Sized::bytes).reversed());
    List<SegmentCommitInfo> toMerge;
    if (!merging.isEmpty()) {
      // A merge is running (perhaps a long one of the big segment): merge fresh segments among
      // themselves once they are maxSegments.
      toMerge = smallest(idle, maxSegments - 1);
    } else if (idle.size() > 1 && restBytes(idle) >= fullMergeRatio * idle.get(0).bytes()) {
      toMerge = idle.stream().map(Sized::info).toList();
    } else {
      toMerge = smallest(idle, maxSegments);
    }
    if (toMerge.size() < 2) {
      return null;
    }
    MergeSpecification spec = new MergeSpecification();
    spec.add(new OneMerge(toMerge));
    return spec;
  }

  /** The smallest segments of {@code bySizeDesc} whose merge leaves {@code keep}; empty if none. */
  private static List<SegmentCommitInfo> smallest(List<Sized> bySizeDesc, int keep) {
    if (bySizeDesc.size() <= keep) {
      return List.of();
    }
    return bySizeDesc.subList(keep - 1, bySizeDesc.size()).stream().map(Sized::info).toList();
  }

  private static long restBytes(List<Sized> bySizeDesc) {
    long rest = 0;
    for (int i = 1; i < bySizeDesc.size(); i++) {
      rest += bySizeDesc.get(i).bytes();
    }
    return rest;
  }

  private record Sized(SegmentCommitInfo info, long bytes) {}
}
