package dev.similarity.search;

import dev.similarity.embedding.CropMode;
import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.tools.Arguments;
import dev.similarity.embedding.tools.Arguments.UsageException;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.index.snapshot.StoreFileSystems;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a {@link SearchService} until the process is stopped. */
public final class SearchServiceMain {

  private static final Logger LOG = LoggerFactory.getLogger(SearchServiceMain.class);

  static final String USAGE = """
      usage: search-service --store URI [--model-dir DIR|none] [--models-dir DIR] [--crop off|box|cutout]
                            [--host 127.0.0.1] [--port 8080]
                            [--poll-interval 5s] [--threads N] [--candidates 100] [--local-dir DIR]
                            [--plugins-dir DIR] [--s3-endpoint URL] [--s3-path-style-access true|false]
                            [--s3-access-key KEY] [--s3-secret-key KEY]
        --store          the snapshot store the indexer job publishes to: a folder, file:///..., s3://...
        --model-dir      the embedding model for image search (default: the committed models/* if found;
                         none turns image search off)
        --models-dir     a folder of model folders (each with its model.json), all loaded besides --model-dir:
                         uploads are embedded with the model the served snapshots were built with, so the
                         service follows the job when it switches models
        --crop           what is cut from an uploaded photo before it is embedded: cutout (default: the product,
                         its background painted black like the catalogue's), box (the product's box), off (the
                         whole photo); a request's crop parameter overrides it
        --host           address to listen on (0.0.0.0: every interface)
        --poll-interval  how often to look for newer snapshots (500ms, 5s, 1m)
        --threads        request threads (default: twice the cores, at least 4)
        --candidates     HNSW candidates per shard and query (efSearch)
        --local-dir      local folder the loaded snapshots are memory-mapped from (default: the temp folder)
        --plugins-dir    Flink's plugins folder, with s3-fs-presto/ for s3:// stores (default: $FLINK_PLUGINS_DIR)
        --s3-endpoint    an S3-compatible server instead of AWS (Flink's s3.endpoint), e.g. http://127.0.0.1:9000
        --s3-path-style-access  bucket in the path, not the host name (s3.path.style.access; default true
                         with --s3-endpoint)
        --s3-access-key, --s3-secret-key  credentials (s3.access-key, s3.secret-key); the secret also from the
                         environment variable S3_SECRET_KEY, which keeps it out of the process list. Without
                         them the S3 client's default credentials apply (environment, instance profile)""";

  private SearchServiceMain() {}

  public static void main(String[] args) throws InterruptedException {
    SearchService service;
    try {
      Arguments line = Arguments.parse(args, USAGE, List.of(
          "--store", "--model-dir", "--models-dir", "--crop", "--host", "--port", "--poll-interval", "--threads", "--candidates",
          "--local-dir", "--plugins-dir", "--s3-endpoint", "--s3-path-style-access", "--s3-access-key",
          "--s3-secret-key"), List.of());
      SearchService.Builder builder = SearchService.builder()
          .store(line.require("--store"))
          .host(line.get("--host", SearchService.Builder.DEFAULT_HOST))
          .port(line.getInt("--port", SearchService.Builder.DEFAULT_PORT))
          .pollInterval(line.getDuration("--poll-interval", SearchService.Builder.DEFAULT_POLL_INTERVAL))
          .searchCandidates(line.getInt("--candidates", ShardSnapshot.DEFAULT_SEARCH_CANDIDATES))
          .uploadCrop(crop(line.get("--crop", SearchService.Builder.DEFAULT_UPLOAD_CROP.text())));
      if (line.has("--threads")) {
        builder.threads(line.getInt("--threads", 0));
      }
      if (line.has("--local-dir")) {
        builder.localDir(Path.of(line.require("--local-dir")));
      }
      if (line.has("--models-dir")) {
        builder.modelsDir(Path.of(line.require("--models-dir")));
      }
      modelDir(line.get("--model-dir", null), line.has("--models-dir")).ifPresent(builder::modelDir);
      String pluginsDir = line.get("--plugins-dir", System.getenv("FLINK_PLUGINS_DIR"));
      if (pluginsDir != null && !pluginsDir.isBlank()) {
        builder.pluginsDir(Path.of(pluginsDir));
      }
      builder.fileSystemSettings(s3Settings(line, System.getenv("S3_SECRET_KEY")));
      service = builder.build();
    } catch (UsageException | IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    service.start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // Log4j's own shutdown hook may already have stopped logging.
      System.err.println("stopping the search service");
      service.close();
      stopped.countDown();
    }, "search-service-shutdown"));
    System.out.println("search service ready: " + service.baseUri() + " (browse page), "
        + service.baseUri().resolve("api/health") + ", " + service.baseUri().resolve("metrics"));
    stopped.await();
  }

  /** Flink's s3.* keys from the --s3-* options ({@link StoreFileSystems#s3Settings}). */
  static Map<String, String> s3Settings(Arguments line, String secretFromEnvironment) {
    try {
      return StoreFileSystems.s3Settings(line.get("--s3-endpoint", null), line.get("--s3-path-style-access", null),
          line.get("--s3-access-key", null), line.get("--s3-secret-key", secretFromEnvironment));
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  static CropMode crop(String option) {
    try {
      return CropMode.parse(option, "--crop");
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  private static Optional<Path> modelDir(String option, boolean modelsDir) {
    if (option == null && modelsDir) {
      return Optional.empty();
    }
    if (option == null) {
      Optional<Path> committed = EmbeddingModelDescriptor.findCommitted(Path.of(""));
      committed.ifPresentOrElse(
          dir -> LOG.info("image search uses the committed model {}", dir),
          () -> LOG.warn("no --model-dir and no committed model under models/: image search is off"));
      return committed;
    }
    if (option.equals("none")) {
      return Optional.empty();
    }
    return Optional.of(Path.of(option));
  }
}
