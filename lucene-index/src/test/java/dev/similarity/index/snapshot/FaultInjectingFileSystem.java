package dev.similarity.index.snapshot;

import java.io.IOException;
import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.flink.core.fs.BlockLocation;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystemFactory;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.fs.local.LocalFileSystem;

/**
 * The local file system under the scheme {@value #SCHEME} ({@code faulty:///tmp/store}), with a
 * fault switch: writes to files whose name matches {@link #failWrites} fail as a full disk does,
 * after the file was created. Registered as a Flink file system factory by this module's test
 * resources, so a {@link SnapshotStore} reaches it through {@code SnapshotStore.at("faulty://...")}.
 */
public final class FaultInjectingFileSystem extends FileSystem {

  public static final String SCHEME = "faulty";

  private static volatile Predicate<String> failingWrites = name -> false;
  private static final AtomicInteger injected = new AtomicInteger();

  private final LocalFileSystem local = new LocalFileSystem();

  /** Writes to files whose name matches fail from now on; {@code name -> false} turns it off. */
  public static void failWrites(Predicate<String> fileName) {
    failingWrites = fileName;
  }

  /** Failures injected so far. */
  public static int injectedFailures() {
    return injected.get();
  }

  /** The Flink factory of this file system. */
  public static final class Factory implements FileSystemFactory {
    private static final FaultInjectingFileSystem INSTANCE = new FaultInjectingFileSystem();

    @Override
    public String getScheme() {
      return SCHEME;
    }

    @Override
    public FileSystem create(URI fsUri) {
      return INSTANCE;
    }
  }

  @Override
  public FSDataOutputStream create(Path path, WriteMode overwriteMode) throws IOException {
    FSDataOutputStream out = local.create(path, overwriteMode);
    if (!failingWrites.test(path.getName())) {
      return out;
    }
    return new FSDataOutputStream() {
      @Override
      public void write(int b) throws IOException {
        fail();
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        fail();
      }

      private void fail() throws IOException {
        injected.incrementAndGet();
        throw new IOException("injected fault: no space left on device writing " + path);
      }

      @Override
      public long getPos() throws IOException {
        return out.getPos();
      }

      @Override
      public void flush() throws IOException {
        out.flush();
      }

      @Override
      public void sync() throws IOException {
        out.sync();
      }

      @Override
      public void close() throws IOException {
        out.close();
      }
    };
  }

  @Override
  public Path getWorkingDirectory() {
    return local.getWorkingDirectory();
  }

  @Override
  public Path getHomeDirectory() {
    return local.getHomeDirectory();
  }

  @Override
  public URI getUri() {
    return URI.create(SCHEME + ":///");
  }

  @Override
  public FileStatus getFileStatus(Path f) throws IOException {
    return local.getFileStatus(f);
  }

  @Override
  public BlockLocation[] getFileBlockLocations(FileStatus file, long start, long len) throws IOException {
    return local.getFileBlockLocations(file, start, len);
  }

  @Override
  public FSDataInputStream open(Path f, int bufferSize) throws IOException {
    return local.open(f, bufferSize);
  }

  @Override
  public FSDataInputStream open(Path f) throws IOException {
    return local.open(f);
  }

  @Override
  public FileStatus[] listStatus(Path f) throws IOException {
    return local.listStatus(f);
  }

  @Override
  public boolean delete(Path f, boolean recursive) throws IOException {
    return local.delete(f, recursive);
  }

  @Override
  public boolean mkdirs(Path f) throws IOException {
    return local.mkdirs(f);
  }

  @Override
  public boolean rename(Path src, Path dst) throws IOException {
    return local.rename(src, dst);
  }

  @Override
  public boolean isDistributedFS() {
    return false;
  }
}
