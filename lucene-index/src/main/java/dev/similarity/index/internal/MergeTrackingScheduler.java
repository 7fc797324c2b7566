package dev.similarity.index.internal;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.lucene.index.ConcurrentMergeScheduler;
import org.apache.lucene.index.MergePolicy;

/**
 * Lucene's background merge scheduler, remembering that a merge has finished so the owner can
 * reopen its reader and search the merged (fewer) segments soon after.
 */
public final class MergeTrackingScheduler extends ConcurrentMergeScheduler {

  private final AtomicBoolean mergedSinceReset = new AtomicBoolean();
  private final AtomicLong mergesCompleted = new AtomicLong();
  private final AtomicLong mergeNanos = new AtomicLong();

  @Override
  protected void doMerge(MergeSource mergeSource, MergePolicy.OneMerge merge) throws IOException {
    long start = System.nanoTime();
    super.doMerge(mergeSource, merge);
    // Runs after the merged segment replaced its sources in the writer, so a reader opened after
    // this flag is seen includes it.
    mergeNanos.addAndGet(System.nanoTime() - start);
    mergesCompleted.incrementAndGet();
    mergedSinceReset.set(true);
  }

  /** True once a merge finished after the last {@link #resetMergedFlag()}. */
  public boolean mergedSinceReset() {
    return mergedSinceReset.get();
  }

  /** Call before reopening a reader: a merge finishing during the reopen sets the flag again. */
  public void resetMergedFlag() {
    mergedSinceReset.set(false);
  }

  public long mergesCompleted() {
    return mergesCompleted.get();
  }

  public long mergeNanos() {
    return mergeNanos.get();
  }
}
