package dev.similarity.search.internal;

import java.util.Collection;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The current {@link SnapshotView}. Requests {@link #acquire} it without locks; the poller
 * {@link #install}s newer shard snapshots by swapping in a new view. A swap never waits for
 * requests and requests never wait for a swap: the old view stays open until its last request
 * releases it.
 */
public final class LiveSnapshots implements AutoCloseable {

  private final AtomicReference<SnapshotView> current = new AtomicReference<>(SnapshotView.empty());
  private boolean closed;

  /**
   * The current view, with a reference the caller must release ({@code try (SnapshotView v =
   * live.acquire())}).
   */
  public SnapshotView acquire() {
    while (true) {
      SnapshotView view = current.get();
      if (view.tryAcquire()) {
        return view;
      }
      // Released between get() and tryAcquire(): a swap happened, so current holds a newer view.
    }
  }

  /**
   * Makes {@code loaded} the served snapshot of its shard; the view it replaces is released (and
   * the shard's old snapshot closed once no request holds it). One caller at a time.
   */
  public synchronized void install(LoadedShard loaded) {
    if (closed) {
      loaded.release();
      return;
    }
    SnapshotView previous = current.get();
    current.set(previous.with(loaded));
    previous.close();
  }

  /**
   * Makes {@code loaded} (one snapshot per shard, together a complete index) the whole served view
   * at once, in place of every shard's current snapshot: how the service switches to another
   * model without a request ever seeing shards of two models. Takes over each one's initial
   * reference. One caller at a time.
   */
  public synchronized void replaceAll(Collection<LoadedShard> loaded) {
    if (closed) {
      loaded.forEach(LoadedShard::release);
      return;
    }
    SnapshotView previous = current.get();
    current.set(SnapshotView.of(loaded));
    previous.close();
  }

  /** Releases the current view; requests still holding it finish first. */
  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      current.getAndSet(SnapshotView.empty()).close();
    }
  }
}
