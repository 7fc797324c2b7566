package dev.similarity.index.internal;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.lucene.index.ConcurrentMergeScheduler;
import org.apache.lucene.index.MergePolicy;
import org.apache.lucene.store.Directory;

/**
 * Lucene's background merge scheduler, remembering that a merge has finished so the owner can
 * reopen its reader and search the merged (fewer) segments soon after. A merge it runs stops within
 * one vector read of being aborted ({@link AbortableMergeDirectory}), so closing the writer never
 * waits for a graph build.
 */
public final class MergeTrackingScheduler extends ConcurrentMergeScheduler {

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private final AtomicBoolean mergedSinceReset = new AtomicBoolean();
  private final AtomicLong mergesCompleted = new AtomicLong();
  private final AtomicLong mergeCpuNanos = new AtomicLong();

  @Override
  protected void doMerge(MergeSource mergeSource, MergePolicy.OneMerge merge) throws IOException {
    long start = cpuNanos();
    super.doMerge(mergeSource, merge);
    // Runs after the merged segment replaced its sources in the writer, so a reader opened after
    // this flag is seen includes it.
    mergeCpuNanos.addAndGet(cpuNanos() - start);
    mergesCompleted.incrementAndGet();
    mergedSinceReset.set(true);
  }

  @Override
  public Directory wrapForMerge(MergePolicy.OneMerge merge, Directory in) {
    return new AbortableMergeDirectory(super.wrapForMerge(merge, in), merge);
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

  /** CPU time merge threads spent merging: what merges take from searches on a busy machine. */
  public long mergeCpuNanos() {
    return mergeCpuNanos.get();
  }

  /** This thread's CPU time, or wall time where the JVM cannot measure CPU time. */
  private static long cpuNanos() {
    return THREADS.isCurrentThreadCpuTimeSupported()
        ? THREADS.getCurrentThreadCpuTime()
        : System.nanoTime();
  }
}
