package dev.similarity.index.internal;

import java.io.IOException;
import java.util.Optional;
import org.apache.lucene.index.MergePolicy;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FilterDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;

/**
 * The directory one merge writes through ({@link MergeTrackingScheduler#wrapForMerge}): every input
 * the merge opens checks, at each seek, whether the merge was aborted, and if so throws Lucene's
 * {@link MergePolicy.MergeAbortedException}, which the writer treats as a clean abort.
 *
 * <p>Why: Lucene checks for an abort only when a merge writes (its rate limiter). A merge of vector
 * segments spends minutes building the HNSW graph of the merged segment without writing a byte, but
 * reading the vectors it links, one seek per vector, from the temporary file it opened here. Without
 * this check {@code IndexWriter.rollback} (our close) waits for that build to end: at 10^6 products a
 * cancelled shard outlived Flink's task cancellation timeout and cost the TaskManager. With it, close
 * returns within one vector comparison of the abort.
 */
final class AbortableMergeDirectory extends FilterDirectory {

  private final MergePolicy.OneMerge merge;

  AbortableMergeDirectory(Directory in, MergePolicy.OneMerge merge) {
    super(in);
    this.merge = merge;
  }

  @Override
  public IndexInput openInput(String name, IOContext context) throws IOException {
    merge.checkAborted();
    return new AbortableInput(in.openInput(name, context), merge);
  }

  /**
   * Delegates every read; a seek first checks the merge (a volatile read). Not a Lucene {@code
   * FilterIndexInput}: that one delegates only single-byte and byte-array reads, so the graph
   * build's {@code readFloats} would fall back to reading byte by byte.
   */
  private static final class AbortableInput extends IndexInput {

    private final IndexInput in;
    private final MergePolicy.OneMerge merge;

    AbortableInput(IndexInput in, MergePolicy.OneMerge merge) {
      super("aborts with its merge(" + in + ")");
      this.in = in;
      this.merge = merge;
    }

    @Override
    public void seek(long pos) throws IOException {
      merge.checkAborted();
      in.seek(pos);
    }

    @Override
    public IndexInput slice(String sliceDescription, long offset, long length) throws IOException {
      return new AbortableInput(in.slice(sliceDescription, offset, length), merge);
    }

    @Override
    public IndexInput slice(String sliceDescription, long offset, long length, IOContext context)
        throws IOException {
      return new AbortableInput(in.slice(sliceDescription, offset, length, context), merge);
    }

    @Override
    public IndexInput clone() {
      return new AbortableInput(in.clone(), merge);
    }

    @Override
    public void close() throws IOException {
      in.close();
    }

    @Override
    public long getFilePointer() {
      return in.getFilePointer();
    }

    @Override
    public long length() {
      return in.length();
    }

    @Override
    public void skipBytes(long numBytes) throws IOException {
      in.skipBytes(numBytes);
    }

    @Override
    public byte readByte() throws IOException {
      return in.readByte();
    }

    @Override
    public void readBytes(byte[] b, int offset, int len) throws IOException {
      in.readBytes(b, offset, len);
    }

    @Override
    public void readBytes(byte[] b, int offset, int len, boolean useBuffer) throws IOException {
      in.readBytes(b, offset, len, useBuffer);
    }

    @Override
    public short readShort() throws IOException {
      return in.readShort();
    }

    @Override
    public int readInt() throws IOException {
      return in.readInt();
    }

    @Override
    public long readLong() throws IOException {
      return in.readLong();
    }

    @Override
    public int readVInt() throws IOException {
      return in.readVInt();
    }

    @Override
    public void readGroupVInt(int[] dst, int limit) throws IOException {
      in.readGroupVInt(dst, limit);
    }

    @Override
    public long readVLong() throws IOException {
      return in.readVLong();
    }

    @Override
    public void readFloats(float[] floats, int offset, int len) throws IOException {
      in.readFloats(floats, offset, len);
    }

    @Override
    public void readInts(int[] dst, int offset, int length) throws IOException {
      in.readInts(dst, offset, length);
    }

    @Override
    public void readLongs(long[] dst, int offset, int length) throws IOException {
      in.readLongs(dst, offset, length);
    }

    @Override
    public void prefetch(long offset, long length) throws IOException {
      in.prefetch(offset, length);
    }

    @Override
    public void updateIOContext(IOContext context) throws IOException {
      in.updateIOContext(context);
    }

    @Override
    public Optional<Boolean> isLoaded() {
      return in.isLoaded();
    }
  }
}
