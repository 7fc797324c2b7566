package dev.similarity.search;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.index.snapshot.ShardSnapshot;
import dev.similarity.embedding.tools.Arguments;
import dev.similarity.embedding.tools.Arguments.UsageException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a {@link SearchService} until the process is stopped. */
public final class SearchServiceMain {

  private static final Logger LOG = LoggerFactory.getLogger(SearchServiceMain.class);

  static final String USAGE = """
      usage: search-service --store URI [--model-dir DIR|none] [--host 127.0.0.1] [--port 8080]
                            [--poll-interval 5s] [--threads N] [--candidates 100] [--local-dir DIR]
        --store          the snapshot store the indexer job publishes to: a folder, file:///..., s3://...
        --model-dir      the embedding model for image search (default: the committed models/* if found;
                         none turns image search off)
        --host           address to listen on (0.0.0.0: every interface)
        --poll-interval  how often to look for newer snapshots (500ms, 5s, 1m)
        --threads        request threads (default: twice the cores, at least 4)
        --candidates     HNSW candidates per shard and query (efSearch)
        --local-dir      local folder the loaded snapshots are memory-mapped from (default: the temp folder)""";

  private SearchServiceMain() {}

  public static void main(String[] args) throws InterruptedException {
    SearchService service;
    try {
      Arguments line = Arguments.parse(args, USAGE, List.of(
          "--store", "--model-dir", "--host", "--port", "--poll-interval", "--threads", "--candidates",
          "--local-dir"), List.of());
      SearchService.Builder builder = SearchService.builder()
          .store(line.require("--store"))
          .host(line.get("--host", SearchService.Builder.DEFAULT_HOST))
          .port(line.getInt("--port", SearchService.Builder.DEFAULT_PORT))
          .pollInterval(line.getDuration("--poll-interval", SearchService.Builder.DEFAULT_POLL_INTERVAL))
          .searchCandidates(line.getInt("--candidates", ShardSnapshot.DEFAULT_SEARCH_CANDIDATES));
      if (line.has("--threads")) {
        builder.threads(line.getInt("--threads", 0));
      }
      if (line.has("--local-dir")) {
        builder.localDir(Path.of(line.require("--local-dir")));
      }
      modelDir(line.get("--model-dir", null)).ifPresent(builder::modelDir);
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

  private static Optional<Path> modelDir(String option) {
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
