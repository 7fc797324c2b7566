package dev.similarity.search;

import com.sun.net.httpserver.HttpServer;
import dev.similarity.embedding.CropMode;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.embedding.ObjectCrop;
import dev.similarity.embedding.internal.Folders;
import dev.similarity.search.internal.Embedders;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.index.snapshot.StoreFileSystems;
import dev.similarity.search.internal.LiveSnapshots;
import dev.similarity.search.internal.NeighbourSearch;
import dev.similarity.search.internal.SearchApi;
import dev.similarity.search.internal.ServiceMetrics;
import dev.similarity.search.internal.SnapshotPoller;
import dev.similarity.search.internal.SnapshotView;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves similar-product queries over HTTP from the latest published snapshot of every shard.
 *
 * <pre>{@code
 * try (SearchService service = SearchService.builder()
 *     .store("s3://bucket/snapshots")
 *     .fileSystemSetting("s3.endpoint", "http://127.0.0.1:9000")   // Flink's S3 keys, for s3:// stores
 *     .pluginsDir(Path.of("search-service/target/plugins"))       // holds s3-fs-presto/
 *     .modelDir(Path.of("models/fashion-mnist-similarity"))   // optional: enables image search
 *     .port(8080)
 *     .build()
 *     .start()) {
 *   ...
 * }
 * }</pre>
 *
 * <p>A poller thread loads newer snapshots off the request path and swaps them in one shard at a
 * time; a replaced snapshot is closed once the last request using it has finished, so queries
 * neither fail nor wait during a swap. A snapshot that fails its checksums is logged and counted in
 * {@code /metrics}; the shard serves its newest intact snapshot meanwhile (the one it served, or an
 * older one at start), {@code /api/health} says "degraded" naming the refused snapshot, and the next
 * poll tries again.
 *
 * <p>Endpoints: {@code GET /api/similar?product=ID&k=10[&category=C]}, {@code POST
 * /api/similar/image?k=10[&category=C][&crop=off|box|cutout]} (body: image bytes; the product is
 * cropped out of the photo first, {@link Builder#uploadCrop}), {@code POST /api/similar/vector}
 * (body: {@code {"vector":[...],"k":10,"category":"..."}}), {@code GET /api/products?from=0&count=24},
 * {@code GET /api/health}, {@code GET /metrics} (Prometheus text) and the browse page at {@code /}.
 * See docs/search-service.md.
 */
public final class SearchService implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SearchService.class);
  private static final String PAGE_RESOURCE = "/dev/similarity/search/browse.html";

  private final Settings settings;
  private final SnapshotStore store;
  private final List<ImageEmbedderConfig> embedderConfigs;
  private final ServiceMetrics metrics = new ServiceMetrics();
  private final LiveSnapshots live = new LiveSnapshots();
  private SnapshotPoller poller;
  /** This service's folder under the configured localDir; deleted on close. */
  private Path ownFolder;
  private Embedders embedders = new Embedders(List.of());
  private HttpServer server;
  private ExecutorService requestThreads;
  private ScheduledExecutorService pollerThread;
  private boolean started;
  private boolean closed;

  /** The builder's values, fixed at build(). */
  /** Connections the OS queues before the server accepts them. */
  private static final int BACKLOG = 1024;

  private record Settings(
      String host, int port, int threads, Duration pollInterval, int searchCandidates, Clock clock,
      Path localDir, CropMode uploadCrop) {}

  private SearchService(Settings settings, SnapshotStore store, List<ImageEmbedderConfig> embedderConfigs) {
    this.settings = settings;
    this.store = store;
    this.embedderConfigs = embedderConfigs;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Loads the embedding model (if configured) and the snapshots published so far, then listens
   * and polls the store every {@code pollInterval}. A store with no snapshots yet is fine: health
   * says 503 until every shard has one.
   *
   * @return this
   * @throws UncheckedIOException if the port cannot be bound
   */
  public synchronized SearchService start() {
    if (started) {
      throw new IllegalStateException("this SearchService was already started");
    }
    started = true;
    try {
      embedders = loadEmbedders(embedderConfigs);
      try {
        Files.createDirectories(settings.localDir());
        ownFolder = Files.createTempDirectory(settings.localDir(), "search-service-");
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create a folder for loaded snapshots in " + settings.localDir()
            + ": " + e.getMessage() + "; choose another with --local-dir", e);
      }
      poller = new SnapshotPoller(store, ownFolder, live, metrics);
      poller.pollOnce();
      AtomicInteger threadNumber = new AtomicInteger();
      requestThreads = Executors.newFixedThreadPool(settings.threads(), r -> {
        Thread t = new Thread(r, "search-request-" + threadNumber.incrementAndGet());
        t.setDaemon(true);
        return t;
      });
      InetSocketAddress address = new InetSocketAddress(settings.host(), settings.port());
      try {
        server = HttpServer.create(address, BACKLOG);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot listen on " + settings.host() + ":" + settings.port() + ": "
            + e.getMessage() + "; choose another port (--port) or host (--host)", e);
      }
      int concurrentImages = Math.max(1, settings.threads() / 2);
      server.createContext("/", new SearchApi(live, metrics, new NeighbourSearch(settings.searchCandidates()),
          embedders, poller::pendingSwitch, settings.uploadCrop(), concurrentImages, store.location(), settings.clock(), page()));
      server.setExecutor(requestThreads);
      server.start();
      pollerThread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "snapshot-poller");
        t.setDaemon(true);
        return t;
      });
      long every = settings.pollInterval().toMillis();
      pollerThread.scheduleWithFixedDelay(this::pollQuietly, every, every, TimeUnit.MILLISECONDS);
      LOG.info("search service on {} over {} (poll every {} ms, {} request threads)", baseUri(),
          store.location(), every, settings.threads());
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Loads every model; two of one qualified id are refused (the snapshots name a model by it).
   *
   * @throws IllegalArgumentException naming the folders of a duplicate id
   */
  private static Embedders loadEmbedders(List<ImageEmbedderConfig> configs) {
    List<ImageEmbedder> loaded = new ArrayList<>();
    Map<String, Path> folders = new LinkedHashMap<>();
    try {
      for (ImageEmbedderConfig config : configs) {
        ImageEmbedder embedder = ImageEmbedder.load(config);
        loaded.add(embedder);
        Path earlier = folders.putIfAbsent(embedder.modelId(), config.modelDir());
        if (earlier != null) {
          throw new IllegalArgumentException("model " + embedder.modelId() + " is in two folders, " + earlier
              + " and " + config.modelDir() + ": snapshots name their model by id, so keep one");
        }
        LOG.info("image search can embed with {} ({} dimensions) from {}", embedder.modelId(), embedder.dimension(),
            config.modelDir());
      }
      return new Embedders(loaded);
    } catch (RuntimeException e) {
      loaded.forEach(ImageEmbedder::close);
      throw e;
    }
  }

  private void pollQuietly() {
    try {
      poller.pollOnce();
    } catch (Throwable e) {
      // A scheduled task that throws is never run again; the poller must survive anything.
      LOG.error("snapshot poll failed; trying again next interval", e);
    }
  }

  private static byte[] page() {
    try (InputStream in = SearchService.class.getResourceAsStream(PAGE_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(PAGE_RESOURCE + " is missing from the class path: rebuild search-service");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + PAGE_RESOURCE, e);
    }
  }

  /** Polls the store now, on the calling thread, and swaps in what is newer; waits for a running poll. */
  public void pollNow() {
    if (poller == null) {
      throw new IllegalStateException("the service is not started: call start()");
    }
    poller.pollOnce();
  }

  /** Where the service listens, e.g. {@code http://127.0.0.1:8080/}. */
  public URI baseUri() {
    requireStarted();
    String host = server.getAddress().getAddress().isAnyLocalAddress()
        ? "127.0.0.1" : server.getAddress().getAddress().getHostAddress();
    return URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/");
  }

  /** The bound port (the chosen one when built with port 0). */
  public int port() {
    requireStarted();
    return server.getAddress().getPort();
  }

  /** Checkpoint id of the served snapshot of each shard, by shard. */
  public Map<Integer, Long> servedCheckpoints() {
    try (SnapshotView view = live.acquire()) {
      return view.checkpoints();
    }
  }

  /** Times a newer snapshot replaced a served one, over all shards. */
  public long swaps() {
    return metrics.swapsTotal();
  }

  /** Shard snapshots in memory: the served ones plus replaced ones that requests still hold. */
  public int snapshotsOpen() {
    return metrics.snapshotsOpen();
  }

  private void requireStarted() {
    if (server == null) {
      throw new IllegalStateException("the service is not listening: call start()");
    }
  }

  /** Stops listening (letting running requests finish for up to a second), polling, and frees every snapshot. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (pollerThread != null) {
      pollerThread.shutdownNow();
      try {
        pollerThread.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (server != null) {
      server.stop(1);
    }
    if (requestThreads != null) {
      requestThreads.shutdown();
      try {
        requestThreads.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (poller != null) {
      poller.close();
    }
    live.close();
    embedders.close();
    if (ownFolder != null) {
      try {
        Folders.deleteRecursively(ownFolder);
      } catch (IOException e) {
        LOG.warn("could not delete {}: {}", ownFolder, e.getMessage());
      }
    }
  }

  /** Settings of a {@link SearchService}; only the store is required. */
  public static final class Builder {

    public static final int DEFAULT_PORT = 8080;
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(5);
    /**
     * The photo-to-catalogue evaluation's best setting for the committed model: exact-item
     * recall@10 0.000 → 0.097 and precision@10 0.115 → 0.511 (docs/embedding.md).
     */
    public static final CropMode DEFAULT_UPLOAD_CROP = CropMode.CUTOUT;

    private String storeLocation;
    private SnapshotStore store;
    private final List<Path> modelDirs = new ArrayList<>();
    private Path modelsDir;
    private CropMode uploadCrop = DEFAULT_UPLOAD_CROP;
    private String host = DEFAULT_HOST;
    private int port = DEFAULT_PORT;
    private int threads = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    private Duration pollInterval = DEFAULT_POLL_INTERVAL;
    private int searchCandidates = ShardSnapshot.DEFAULT_SEARCH_CANDIDATES;
    private Clock clock = Clock.systemUTC();
    private Path localDir = Path.of(System.getProperty("java.io.tmpdir"));
    private final Map<String, String> fileSystemSettings = new LinkedHashMap<>();
    private Path pluginsDir;

    private Builder() {}

    /** The snapshot store: a local folder or a Flink file system URI ({@code s3://bucket/snapshots}). */
    public Builder store(String location) {
      this.storeLocation = location;
      this.store = null;
      return this;
    }

    public Builder store(SnapshotStore store) {
      this.store = store;
      this.storeLocation = null;
      return this;
    }

    /**
     * An embedding model folder (SavedModel + model.json), for image search; may be given more
     * than once. Uploads are embedded with the model the served snapshots were built with; without
     * any model, image search answers 503.
     */
    public Builder modelDir(Path modelDir) {
      this.modelDirs.add(modelDir);
      return this;
    }

    /**
     * A folder of model folders (each with its model.json), all loaded for image search besides
     * any {@link #modelDir}: the service follows the job when it switches to another of them.
     */
    public Builder modelsDir(Path modelsDir) {
      this.modelsDir = modelsDir;
      return this;
    }

    /**
     * What is cut from an uploaded photo before it is embedded ({@link ObjectCrop}): {@code CUTOUT}
     * by default; a request's {@code crop} parameter overrides it.
     */
    public Builder uploadCrop(CropMode uploadCrop) {
      this.uploadCrop = uploadCrop;
      return this;
    }

    /** The address to listen on; {@value #DEFAULT_HOST} by default, {@code 0.0.0.0} for every interface. */
    public Builder host(String host) {
      this.host = host;
      return this;
    }

    /** The port; 0 picks a free one ({@link SearchService#port()} tells which). */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** Threads answering requests; by default twice the cores, at least 4. */
    public Builder threads(int threads) {
      this.threads = threads;
      return this;
    }

    /** How often the store is checked for newer snapshots. */
    public Builder pollInterval(Duration pollInterval) {
      this.pollInterval = pollInterval;
      return this;
    }

    /** HNSW candidates per shard and query (efSearch), raised to k when k is larger. */
    public Builder searchCandidates(int searchCandidates) {
      this.searchCandidates = searchCandidates;
      return this;
    }

    /**
     * Where loaded snapshots are copied to and memory-mapped from (a fresh sub-folder, deleted on
     * close); the system's temporary folder by default. Needs room for about two snapshots of the
     * whole index.
     */
    public Builder localDir(Path localDir) {
      this.localDir = localDir;
      return this;
    }

    /**
     * One setting of Flink's file systems for a store location such as {@code s3://bucket/snapshots},
     * with Flink's key: {@code s3.endpoint} (an S3-compatible server, e.g. {@code
     * http://127.0.0.1:9000}), {@code s3.path.style.access}, {@code s3.access-key}, {@code
     * s3.secret-key}. With any setting or a {@link #pluginsDir}, {@link #build()} sets Flink's file
     * systems up with them, as a Flink process does at start; that is JVM-wide.
     */
    public Builder fileSystemSetting(String key, String value) {
      fileSystemSettings.put(key, value);
      return this;
    }

    public Builder fileSystemSettings(Map<String, String> settings) {
      fileSystemSettings.putAll(settings);
      return this;
    }

    /**
     * Flink's plugins folder, one sub-folder per plugin: the file system of an {@code s3://} store
     * comes from {@code s3-fs-presto/flink-s3-fs-presto-2.2.0.jar} (the build puts it into {@code
     * search-service/target/plugins}). Default: none (file systems on the class path only).
     */
    public Builder pluginsDir(Path pluginsDir) {
      this.pluginsDir = pluginsDir;
      return this;
    }

    /** The clock snapshot ages are measured with. */
    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    /**
     * Checks every setting.
     *
     * @throws IllegalArgumentException naming each setting to fix
     */
    public SearchService build() {
      List<String> problems = new ArrayList<>();
      if (store == null && (storeLocation == null || storeLocation.isBlank())) {
        problems.add("store is required: the snapshot store's location, e.g. /srv/snapshots, "
            + "file:///srv/snapshots or s3://bucket/snapshots");
      }
      if (host == null || host.isBlank()) {
        problems.add("host is blank: use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)");
      }
      if (port < 0 || port > 65_535) {
        problems.add("port is " + port + "; it must be 0..65535 (0 picks a free port)");
      }
      if (threads < 1 || threads > 1024) {
        problems.add("threads is " + threads + "; it must be 1..1024");
      }
      if (pollInterval == null || pollInterval.toMillis() < 10) {
        problems.add("pollInterval is " + pollInterval + "; it must be at least 10 ms");
      }
      if (searchCandidates < 1 || searchCandidates > 10_000) {
        problems.add("searchCandidates is " + searchCandidates + "; it must be 1..10000");
      }
      if (uploadCrop == null) {
        problems.add("uploadCrop is null: give off, box or cutout");
      }
      if (clock == null) {
        problems.add("clock is null");
      }
      if (localDir == null || (Files.exists(localDir) && !Files.isDirectory(localDir))) {
        problems.add("localDir " + localDir + " is not a folder: give a local folder for loaded snapshots");
      }
      fileSystemSettings.forEach((key, value) -> {
        if (key == null || key.isBlank() || value == null) {
          problems.add("fileSystemSetting " + key + "=" + value + " needs a key and a value");
        }
      });
      if (pluginsDir != null && !Files.isDirectory(pluginsDir)) {
        problems.add("pluginsDir " + pluginsDir.toAbsolutePath() + " is not a folder: give Flink's plugins folder,"
            + " with one sub-folder per plugin such as s3-fs-presto/");
      }
      List<Path> folders = new ArrayList<>(modelDirs);
      if (modelsDir != null) {
        try (java.util.stream.Stream<Path> children = Files.list(modelsDir)) {
          List<Path> models = children.filter(d -> Files.isRegularFile(d.resolve("model.json"))).sorted().toList();
          if (models.isEmpty()) {
            problems.add("modelsDir " + modelsDir.toAbsolutePath() + " holds no model folder (a folder with"
                + " model.json and the SavedModel)");
          }
          folders.addAll(models);
        } catch (IOException e) {
          problems.add("modelsDir " + modelsDir.toAbsolutePath() + " cannot be listed: " + e.getMessage()
              + "; give a folder of model folders");
        }
      }
      List<ImageEmbedderConfig> embedderConfigs = new ArrayList<>();
      for (Path folder : folders) {
        try {
          embedderConfigs.add(ImageEmbedderConfig.builder().modelDir(folder).build());
        } catch (IllegalArgumentException | NullPointerException e) {
          problems.add("modelDir: " + e.getMessage());
        }
      }
      if (problems.isEmpty() && (!fileSystemSettings.isEmpty() || pluginsDir != null)) {
        try {
          String plugins = StoreFileSystems.initialize(fileSystemSettings, pluginsDir);
          LOG.info("Flink file systems set up with {} setting(s) ({}) and plugins {}", fileSystemSettings.size(),
              fileSystemSettings.keySet(), plugins);
        } catch (RuntimeException e) {
          problems.add("file systems: " + e.getMessage());
        }
      }
      SnapshotStore resolved = store;
      if (resolved == null && problems.isEmpty()) {
        try {
          resolved = SnapshotStore.at(storeLocation);
        } catch (RuntimeException e) {
          problems.add("store: " + e.getMessage() + (storeLocation.startsWith("s3") && pluginsDir == null
              ? " (an s3:// store needs Flink's S3 file system: give pluginsDir, --plugins-dir, a folder holding s3-fs-presto/)"
              : ""));
        }
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException("invalid search service settings: " + String.join("; ", problems));
      }
      return new SearchService(
          new Settings(host, port, threads, pollInterval, searchCandidates, clock, localDir, uploadCrop),
          Objects.requireNonNull(resolved), List.copyOf(embedderConfigs));
    }
  }
}
