package dev.similarity.index;

import dev.similarity.index.internal.HnswShardCodec;
import dev.similarity.index.internal.MaskedReaderView;
import dev.similarity.index.internal.FewSegmentsMergePolicy;
import dev.similarity.index.internal.MergeTrackingScheduler;
import dev.similarity.index.internal.PendingWrites;
import dev.similarity.index.internal.ProductDocuments;
import dev.similarity.index.internal.VectorChecks;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.IndexCommit;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.IndexableField;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.MergePolicy;
import org.apache.lucene.index.TieredMergePolicy;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexInput;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One shard's vector index: products' unit-length embeddings in a Lucene HNSW index, searched for
 * the top-k most similar products with read-your-writes consistency.
 *
 * <p><b>Consistency.</b> Every search sees every write made before it, without reopening Lucene's
 * reader per write (each reopen flushes a segment, and segment count is what makes HNSW search
 * slow). Between refreshes, upserted vectors sit in a pending buffer that searches scan exactly, and
 * the searcher's stale copies of overwritten or deleted products are hidden from it. A refresh
 * reopens the near-real-time reader from the writer and empties the buffer. It happens when the
 * buffer reaches {@code refreshPendingThreshold} vectors, when the oldest unrefreshed write is older
 * than {@code refreshMaxAge} (checked on every write and search, and by {@link #maybeRefresh()},
 * which an owner calls from a timer), and after a background merge finished, so that searches move
 * to the merged, fewer segments.
 *
 * <p><b>Shared images.</b> A node of the HNSW graph is either a product ({@link #upsert}) or a
 * distinct image ({@link #upsertImage}) that stands for all the products showing it, recorded as
 * members without a vector ({@link #putMember}). Identical vectors thus never crowd the graph:
 * thousands of products with one placeholder picture are one node. Searches, {@link #contains},
 * {@link #delete} and {@link #size} are about nodes; members, and the products recorded in the
 * shard of their own id ({@link #putProduct}), are for readers of a committed snapshot, which expand
 * an image node into its products and find every product by its id.
 *
 * <p><b>Scores.</b> Similarity is the dot product of unit vectors, i.e. the cosine; it is what
 * {@link ScoredProduct#score()} reports (not Lucene's rescaled score).
 *
 * <p><b>Threads.</b> Not thread-safe. One thread (a Flink operator's) must make all calls; Lucene
 * merges run in the background on their own threads.
 *
 * <p><b>Durability.</b> Nothing is durable until {@link #commit}; {@link #close()} does not commit
 * and discards writes made since the last commit.
 */
public final class ShardIndex implements Closeable {

  private static final Logger LOG = LoggerFactory.getLogger(ShardIndex.class);

  private final int dimension;
  private final int searchCandidates;
  private final int refreshPendingThreshold;
  private final long refreshMaxAgeNanos;
  private final String location;
  /** In memory: search from heap copies of the vectors (see MaskedReaderView.open). */
  private final boolean vectorsOnHeap;
  private final Directory directory;
  private final MergeTrackingScheduler mergeScheduler;
  private final IndexWriter writer;
  private final PendingWrites pending = new PendingWrites();
  private MaskedReaderView view;
  private long refreshes;
  private long refreshNanos;
  private boolean closed;
  /** Image nodes written by {@link #bulkAddImages} since the bulk load began; -1: no bulk load open. */
  private int bulkLoadAdded = -1;

  private ShardIndex(Builder settings) throws IOException {
    this.dimension = settings.dimension;
    this.searchCandidates = settings.searchCandidates;
    this.refreshPendingThreshold = settings.refreshPendingThreshold;
    this.refreshMaxAgeNanos = settings.refreshMaxAge.toNanos();
    this.location = settings.directory == null ? "in-memory shard index" : settings.directory.toString();
    this.vectorsOnHeap = settings.directory == null;
    if (settings.directory == null) {
      this.directory = new ByteBuffersDirectory();
    } else {
      Files.createDirectories(settings.directory);
      this.directory = FSDirectory.open(settings.directory);
    }
    this.mergeScheduler = new MergeTrackingScheduler();
    mergeScheduler.disableAutoIOThrottle(); // merges are CPU-bound graph builds; finish them fast
    TieredMergePolicy mergePolicy = new TieredMergePolicy();
    mergePolicy.setSegmentsPerTier(settings.mergeSegmentsPerTier);
    mergePolicy.setFloorSegmentMB(settings.effectiveMergeFloorSegmentMb());
    mergePolicy.setDeletesPctAllowed(settings.mergeDeletesPctAllowed);
    mergePolicy.setNoCFSRatio(0.0);
    MergePolicy policy =
        settings.mergeMaxSegments == 0
            ? mergePolicy
            : new FewSegmentsMergePolicy(
                mergePolicy, settings.mergeMaxSegments, settings.mergeFullRatio);
    IndexWriterConfig config =
        new IndexWriterConfig()
            .setOpenMode(IndexWriterConfig.OpenMode.CREATE_OR_APPEND)
            .setCodec(new HnswShardCodec(settings.maxConn, settings.beamWidth))
            .setRAMBufferSizeMB(settings.ramBufferMb)
            .setMergePolicy(policy)
            .setMergeScheduler(mergeScheduler)
            .setUseCompoundFile(false)
            .setCommitOnClose(false);
    IndexWriter opened = null;
    try {
      opened = new IndexWriter(directory, config);
      DirectoryReader reader = DirectoryReader.open(opened);
      try {
        requireCompatibleVectors(reader);
      } catch (RuntimeException e) {
        reader.close();
        throw e;
      }
      this.writer = opened;
      this.view = MaskedReaderView.open(reader, null, vectorsOnHeap);
    } catch (IOException | RuntimeException e) {
      if (opened != null) {
        opened.rollback();
      }
      directory.close();
      throw e;
    }
  }

  private void requireCompatibleVectors(DirectoryReader reader) {
    for (LeafReaderContext leaf : reader.leaves()) {
      FieldInfo field = leaf.reader().getFieldInfos().fieldInfo(ProductDocuments.VECTOR_FIELD);
      if (field == null) {
        continue;
      }
      if (field.getVectorDimension() != dimension
          || field.getVectorSimilarityFunction() != ProductDocuments.SIMILARITY) {
        throw new IllegalStateException(
            location
                + " holds "
                + field.getVectorDimension()
                + "-dimensional "
                + field.getVectorSimilarityFunction()
                + " vectors, but dimension("
                + dimension
                + ") with "
                + ProductDocuments.SIMILARITY
                + " was requested: open it with the matching dimension or use an empty directory");
      }
    }
  }

  /** A builder; {@link Builder#dimension(int)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Inserts or replaces a product's vector. Visible to every later {@link #search} at once.
   *
   * @param productId the product's id, not blank
   * @param vector L2-normalised, of the index's dimension; copied
   * @param category an exact-match category for filtered searches, or {@code null}
   * @throws IllegalArgumentException if the vector has the wrong dimension, is not finite or not
   *     unit length, or the id or category is blank
   */
  public void upsert(String productId, float[] vector, String category) {
    upsert(productId, vector, category, null);
  }

  /**
   * As {@link #upsert(String, float[], String)}, also storing the product's image URL for readers of
   * a committed snapshot ({@code null} for none).
   */
  public void upsert(String productId, float[] vector, String category, String imageUrl) {
    ensureOpenNoBulkLoad();
    requireId(productId);
    if (category != null && category.isBlank()) {
      throw new IllegalArgumentException(
          "category of product '" + productId + "' is blank; pass null for no category");
    }
    VectorChecks.requireUnitVector("vector of product '" + productId + "'", vector, dimension);
    writeNode(
        productId,
        vector,
        category,
        ProductDocuments.document(productId, vector, category, imageUrl),
        "upsert product '" + productId + "'");
  }

  /**
   * Inserts or replaces the node of a shared image: one vector in the HNSW graph that stands for
   * every product recorded under {@code imageKey} with {@link #putMember}, however many there are.
   * Searches return it under {@code imageKey} as its id; it has no category of its own, so category
   * filters never match it. {@link #delete} removes it.
   *
   * @param imageKey the image's key (a content hash), not blank; shares the id space of products
   * @param vector L2-normalised, of the index's dimension; copied
   */
  public void upsertImage(String imageKey, float[] vector) {
    ensureOpenNoBulkLoad();
    requireId(imageKey);
    VectorChecks.requireUnitVector("vector of image '" + imageKey + "'", vector, dimension);
    writeNode(
        imageKey,
        vector,
        null,
        ProductDocuments.imageDocument(imageKey, vector),
        "upsert image '" + imageKey + "'");
  }

  private void writeNode(
      String id, float[] vector, String category, Iterable<? extends IndexableField> doc, String action) {
    try {
      writer.updateDocument(ProductDocuments.idTerm(id), doc);
      view.hide(id);
    } catch (IOException e) {
      throw failure(action, e);
    }
    pending.upsert(id, vector, category, System.nanoTime());
    refreshIfDue();
  }

  /**
   * Records (or updates) a product that shows a shared image: a member document without a vector,
   * so it costs the HNSW graph nothing. Searches of this index never return members (they return
   * the image's node); readers of a committed snapshot use them to find the product, its category
   * and URL, and the image's representative (the member with the lowest {@code sequence}). A
   * product is a member per image: one moving between images is removed from the old one with
   * {@link #removeMember}, whatever order the two calls come in.
   */
  public void putMember(ImageMember member) {
    ensureOpenNoBulkLoad();
    Objects.requireNonNull(member, "member");
    try {
      writeMember(member);
    } catch (IOException e) {
      throw failure("record member '" + member.productId() + "'", e);
    }
  }

  /** Forgets the member {@code productId} of image {@code imageKey}; nothing happens if there is none. */
  public void removeMember(String productId, String imageKey) {
    ensureOpenNoBulkLoad();
    requireId(productId);
    requireId(imageKey);
    try {
      writer.deleteDocuments(ProductDocuments.memberTerm(productId, imageKey));
    } catch (IOException e) {
      throw failure("remove member '" + productId + "' of image '" + imageKey + "'", e);
    }
  }

  /**
   * Records (or replaces) a product whose vector is an image node's, in the shard of the product's own
   * id: a document without an indexed vector (it costs the graph nothing), holding the image key and
   * a stored copy of the vector, so a reader of a snapshot finds the product and its vector here
   * while the product moves between images, whose nodes live in other shards. Never a search hit.
   *
   * @throws IllegalArgumentException if the vector is not a unit vector of the index's dimension
   */
  public void putProduct(ProductImage product) {
    ensureOpenNoBulkLoad();
    Objects.requireNonNull(product, "product");
    try {
      writeProduct(product);
    } catch (IOException e) {
      throw failure("record product '" + product.productId() + "'", e);
    }
  }

  /** Forgets a product recorded with {@link #putProduct}; nothing happens if there is none. */
  public void removeProduct(String productId) {
    ensureOpenNoBulkLoad();
    requireId(productId);
    try {
      writer.deleteDocuments(ProductDocuments.productTerm(productId));
    } catch (IOException e) {
      throw failure("remove product '" + productId + "'", e);
    }
  }

  private static Iterable<? extends IndexableField> productDocument(ProductImage product) {
    return ProductDocuments.productDocument(
        product.productId(), product.imageKey(), product.vector(), product.category(), product.imageUrl());
  }

  private static Iterable<? extends IndexableField> memberDocument(ImageMember member) {
    return ProductDocuments.memberDocument(
        member.productId(), member.imageKey(), member.sequence(), member.category(), member.imageUrl());
  }

  /**
   * Removes a product. Later searches never return it.
   *
   * @return true if the product was in the index
   */
  public boolean delete(String productId) {
    ensureOpenNoBulkLoad();
    requireId(productId);
    boolean existed;
    try {
      existed = pending.contains(productId) || view.findLive(productId) >= 0;
      if (!existed) {
        return false; // the writer cannot hold it either: it holds the view plus pending writes
      }
      writer.deleteDocuments(ProductDocuments.idTerm(productId));
      view.hide(productId);
    } catch (IOException e) {
      throw failure("delete product '" + productId + "'", e);
    }
    pending.delete(productId, System.nanoTime());
    refreshIfDue();
    return true;
  }

  /** Whether the product is live (upserted and not deleted since), refreshed or not. */
  public boolean contains(String productId) {
    ensureOpen();
    requireId(productId);
    try {
      return pending.contains(productId) || view.findLive(productId) >= 0;
    } catch (IOException e) {
      throw failure("look up product '" + productId + "'", e);
    }
  }

  /** Number of live nodes (products and shared images), pending ones included; members not counted. */
  public int size() {
    ensureOpen();
    return view.liveCount() + pending.size();
  }

  /**
   * Replaces or adds many products and then refreshes once: the fast way to (re)build a shard, e.g.
   * from Flink state after a restore. Products already in the index keep their other entries.
   * Segments are flushed every {@code ramBufferMb}, so a bulk load within that size ends as one
   * segment.
   *
   * @return the number of products loaded
   */
  public int bulkLoad(Iterable<ProductVector> products) {
    ensureOpenNoBulkLoad();
    Objects.requireNonNull(products, "products");
    int loaded = 0;
    try {
      for (ProductVector product : products) {
        requireId(product.productId());
        VectorChecks.requireUnitVector(
            "vector of product '" + product.productId() + "'", product.vector(), dimension);
        writer.updateDocument(
            ProductDocuments.idTerm(product.productId()),
            ProductDocuments.document(
                product.productId(), product.vector(), product.category(), product.imageUrl()));
        loaded++;
      }
    } catch (IOException e) {
      throw failure("bulk-load product number " + (loaded + 1), e);
    } finally {
      // The writer now holds writes the view and pending buffer do not describe: only a reopen
      // makes them agree again, also after a failure part-way.
      reopen();
    }
    LOG.debug("{}: bulk-loaded {} products into {} segments", location, loaded, segmentCount());
    return loaded;
  }

  /**
   * As {@link #bulkLoad(Iterable)} for images: their nodes, the members behind them, the products
   * recorded with {@link #putProduct}, and one refresh.
   *
   * @return the number of image nodes loaded
   */
  public int bulkLoadImages(
      Iterable<ImageVector> images, Iterable<ImageMember> members, Iterable<ProductImage> products) {
    ensureOpenNoBulkLoad();
    Objects.requireNonNull(images, "images");
    Objects.requireNonNull(members, "members");
    Objects.requireNonNull(products, "products");
    int loaded = 0;
    try {
      for (ImageVector image : images) {
        writeImageNode(image);
        loaded++;
      }
      for (ImageMember member : members) {
        writeMember(member);
      }
      for (ProductImage product : products) {
        writeProduct(product);
      }
    } catch (IOException e) {
      throw failure("bulk-load image number " + (loaded + 1) + ", members or products", e);
    } finally {
      reopen(); // as in bulkLoad: only a reopen makes the view agree with the writer again
    }
    return loaded;
  }

  /** Writes a member (replacing one of the same product and image) without refreshing: bulk loads only. */
  private void writeMember(ImageMember member) throws IOException {
    writer.updateDocument(
        ProductDocuments.memberTerm(member.productId(), member.imageKey()), memberDocument(member));
  }

  /** Writes a product's record (replacing its earlier one) without refreshing: bulk loads only. */
  private void writeProduct(ProductImage product) throws IOException {
    requireId(product.productId());
    VectorChecks.requireUnitVector(
        "vector of product '" + product.productId() + "'", product.vector(), dimension);
    writer.updateDocument(ProductDocuments.productTerm(product.productId()), productDocument(product));
  }

  /** Writes an image node (replacing one of the same key) without refreshing: bulk loads only. */
  private void writeImageNode(ImageVector image) throws IOException {
    requireId(image.imageKey());
    VectorChecks.requireUnitVector(
        "vector of image '" + image.imageKey() + "'", image.vector(), dimension);
    writer.updateDocument(
        ProductDocuments.idTerm(image.imageKey()),
        ProductDocuments.imageDocument(image.imageKey(), image.vector()));
  }

  /**
   * Part of a bulk load fed in parts, so that a caller can do other work between them (a Flink operator
   * lets checkpoint barriers pass): writes image nodes as {@link #bulkLoadImages} does, without making
   * them searchable. Until {@link #endBulkLoad()}, every search, write and refresh of this index is
   * refused with {@link IllegalStateException}; {@link #size()} and {@link #contains} answer for the
   * index as it was. Graphs are built as the nodes are written (one segment per {@code ramBufferMb}), so
   * the parts together cost what one {@link #bulkLoadImages} call costs.
   *
   * @param images nodes with L2-normalised vectors of the index's dimension
   * @return the number of image nodes written by this call
   */
  public int bulkAddImages(Iterable<ImageVector> images) {
    int added = bulkAdd(images, "image", bulkLoadAdded < 0 ? 0 : bulkLoadAdded, this::writeImageNode);
    bulkLoadAdded += added;
    return added;
  }

  /**
   * Part of a bulk load fed in parts, as {@link #bulkAddImages}: writes members (as {@link #putMember}
   * would) without making them visible until {@link #endBulkLoad()}; opens the bulk load if none is.
   *
   * @return the number of members written by this call
   */
  public int bulkAddMembers(Iterable<ImageMember> members) {
    return bulkAdd(members, "member", 0, this::writeMember);
  }

  /**
   * Part of a bulk load fed in parts, as {@link #bulkAddImages}: writes products' records (as {@link
   * #putProduct} would) without making them visible until {@link #endBulkLoad()}; opens the bulk load if
   * none is.
   *
   * @return the number of products written by this call
   */
  public int bulkAddProducts(Iterable<ProductImage> products) {
    return bulkAdd(products, "product", 0, this::writeProduct);
  }

  /** A write of a bulk load that may fail on I/O. */
  @FunctionalInterface
  private interface BulkWrite<T> {
    void write(T item) throws IOException;
  }

  /**
   * Opens a bulk load in parts if none is, and writes {@code items} into it; on an I/O failure ends it
   * (the view must agree with the writer again) and names the item that failed, counted from {@code
   * before} written earlier.
   */
  private <T> int bulkAdd(Iterable<T> items, String what, int before, BulkWrite<T> write) {
    ensureOpen();
    Objects.requireNonNull(items, what + "s");
    if (bulkLoadAdded < 0) {
      bulkLoadAdded = 0;
    }
    int added = 0;
    try {
      for (T item : items) {
        write.write(item);
        added++;
      }
    } catch (IOException e) {
      endBulkLoad();
      throw failure("bulk-add " + what + " number " + (before + added + 1), e);
    }
    return added;
  }

  /**
   * Ends a bulk load begun by {@link #bulkAddImages}: its nodes become searchable (one reopen). Does
   * nothing when none is open.
   *
   * @return the image nodes the bulk load wrote
   */
  public int endBulkLoad() {
    ensureOpen();
    int added = bulkLoadAdded;
    if (added < 0) {
      return 0;
    }
    bulkLoadAdded = -1;
    reopen();
    LOG.debug("{}: bulk-loaded {} image nodes in parts; {} segments", location, added, segmentCount());
    return added;
  }

  /**
   * The {@code k} live products most similar to {@code query}, best first, as cosine similarity.
   *
   * <p>Approximate for products already refreshed into the HNSW graph (see {@code
   * searchCandidates}), exact for pending ones; a product written before this call is found by its
   * latest vector and never by an older one.
   *
   * @param query L2-normalised, of the index's dimension
   * @param k how many results at most, at least 1
   * @param options exclusions and category filter; {@link SearchOptions#NONE} for none
   */
  public List<ScoredProduct> search(float[] query, int k, SearchOptions options) {
    ensureOpenNoBulkLoad();
    VectorChecks.requireUnitVector("query vector", query, dimension);
    if (k < 1) {
      throw new IllegalArgumentException("k is " + k + "; it must be at least 1");
    }
    Objects.requireNonNull(options, "options (use SearchOptions.NONE for none)");
    refreshIfDue();
    String category = options.category().orElse(null);
    try {
      List<ScoreDoc> indexed = searchRefreshed(query, k, category, options);
      List<ScoredProduct> fresh = pending.topMatches(query, k, category, options.excludedIds());
      return mergeBestFirst(indexed, fresh, k);
    } catch (IOException e) {
      throw failure("search", e);
    }
  }

  /**
   * The {@code k} live products most similar to each of {@code queries}: element {@code i} is what
   * {@link #search(float[], int, SearchOptions) search(queries[i], k, options)} would return at this
   * moment. For a bulk phase that has many vectors to search (every product of a bootstrap, say):
   * the refresh check is made once for the batch, and the exact-search buffer of unrefreshed writes
   * is read once per block of {@value #QUERY_BLOCK} queries instead of once per query.
   *
   * @param queries each L2-normalised, of the index's dimension; none is modified
   * @throws IllegalArgumentException naming the first query that is not a unit vector of the
   *     index's dimension (nothing is searched then)
   */
  public List<List<ScoredProduct>> search(float[][] queries, int k, SearchOptions options) {
    ensureOpenNoBulkLoad();
    Objects.requireNonNull(queries, "queries");
    for (int i = 0; i < queries.length; i++) {
      VectorChecks.requireUnitVector("query vector " + i, queries[i], dimension);
    }
    if (k < 1) {
      throw new IllegalArgumentException("k is " + k + "; it must be at least 1");
    }
    Objects.requireNonNull(options, "options (use SearchOptions.NONE for none)");
    refreshIfDue();
    String category = options.category().orElse(null);
    List<List<ScoredProduct>> results = new ArrayList<>(queries.length);
    try {
      for (int from = 0; from < queries.length; from += QUERY_BLOCK) {
        int to = Math.min(queries.length, from + QUERY_BLOCK);
        List<List<ScoredProduct>> fresh =
            pending.topMatches(queries, from, to, k, category, options.excludedIds());
        for (int q = from; q < to; q++) {
          List<ScoreDoc> indexed = searchRefreshed(queries[q], k, category, options);
          results.add(mergeBestFirst(indexed, fresh.get(q - from), k));
        }
      }
    } catch (IOException e) {
      throw failure("search", e);
    }
    return results;
  }

  /** Queries per pass over the exact-search buffer in a batch: 32 x 4 KB at 1,024 dimensions. */
  private static final int QUERY_BLOCK = 32;

  /** Top hits from the refreshed segments, best first, scores as cosine, excluded ids removed. */
  private List<ScoreDoc> searchRefreshed(
      float[] query, int k, String category, SearchOptions options) throws IOException {
    if (view.liveCount() == 0) {
      return List.of();
    }
    Set<String> excludedIds = options.excludedIds();
    int[] excludedDocs = new int[excludedIds.size()];
    int excludedCount = 0;
    for (String id : excludedIds) {
      int doc = view.findLive(id);
      if (doc >= 0) {
        excludedDocs[excludedCount++] = doc;
      }
    }
    int beam = options.candidates() > 0 ? options.candidates() : searchCandidates;
    // Excluded products may take places among the best hits: ask for that many more.
    int kPrime = Math.min(Math.max(k + excludedCount, beam), view.maxDoc());
    TopDocs top;
    if (category == null) {
      // Each segment's graph directly: no query rewrite, weight or collector manager per call.
      top = view.searchNearest(query, k + excludedCount, kPrime);
    } else {
      // Lucene's filtered kNN search: it falls back to an exact scan when few documents match.
      Query filter = new TermQuery(ProductDocuments.categoryTerm(category));
      top =
          view.searcher()
              .search(
                  new KnnFloatVectorQuery(ProductDocuments.VECTOR_FIELD, query, kPrime, filter),
                  kPrime);
    }
    List<ScoreDoc> hits = new ArrayList<>(Math.min(k, top.scoreDocs.length));
    for (ScoreDoc hit : top.scoreDocs) {
      if (hits.size() == k) {
        break;
      }
      if (!contains(excludedDocs, excludedCount, hit.doc)) {
        hits.add(new ScoreDoc(hit.doc, ProductDocuments.cosineFromLuceneScore(hit.score)));
      }
    }
    return hits;
  }

  private static boolean contains(int[] docs, int count, int doc) {
    for (int i = 0; i < count; i++) {
      if (docs[i] == doc) {
        return true;
      }
    }
    return false;
  }

  private List<ScoredProduct> mergeBestFirst(
      List<ScoreDoc> indexed, List<ScoredProduct> fresh, int k) throws IOException {
    int fromIndex = 0;
    int fromPending = 0;
    while (fromIndex + fromPending < k
        && (fromIndex < indexed.size() || fromPending < fresh.size())) {
      if (fromPending == fresh.size()
          || (fromIndex < indexed.size()
              && indexed.get(fromIndex).score >= fresh.get(fromPending).score())) {
        fromIndex++;
      } else {
        fromPending++;
      }
    }
    int[] docs = new int[fromIndex];
    for (int i = 0; i < fromIndex; i++) {
      docs[i] = indexed.get(i).doc;
    }
    String[] ids = view.productIdsOf(docs);
    List<ScoredProduct> merged = new ArrayList<>(fromIndex + fromPending);
    for (int i = 0; i < fromIndex; i++) {
      merged.add(new ScoredProduct(ids[i], indexed.get(i).score));
    }
    merged.addAll(fresh.subList(0, fromPending));
    merged.sort(PendingWrites.bestFirst());
    return merged;
  }

  /**
   * Refreshes if a refresh is due: the pending buffer is full or too old, or a background merge
   * finished. Owners call this from a timer so that a quiet shard still refreshes on time.
   */
  public void maybeRefresh() {
    ensureOpenNoBulkLoad();
    refreshIfDue();
  }

  private void refreshIfDue() {
    if (pending.size() >= refreshPendingThreshold
        || pending.ageNanos(System.nanoTime()) >= refreshMaxAgeNanos
        // Only a writer without unrefreshed writes reopens without flushing a new segment; with
        // writes, the next size- or age-triggered refresh picks the merge up.
        || (mergeScheduler.mergedSinceReset() && !pending.hasWrites())) {
      refresh();
    }
  }

  /**
   * Makes all writes part of the HNSW-searched segments now: reopens the near-real-time reader and
   * empties the pending buffer. Flushes a new segment if there were writes.
   */
  public void refresh() {
    ensureOpenNoBulkLoad();
    int liveBefore = size();
    reopen();
    assert view.liveCount() == liveBefore
        : "refresh changed the live count from " + liveBefore + " to " + view.liveCount();
  }

  /** Reopens the view from the writer and empties the pending buffer. */
  private void reopen() {
    long start = System.nanoTime();
    int pendingBefore = pending.size();
    mergeScheduler.resetMergedFlag();
    try {
      DirectoryReader reopened = DirectoryReader.openIfChanged(view.reader(), writer, true);
      if (reopened != null) {
        MaskedReaderView previous = view;
        view = MaskedReaderView.open(reopened, previous, vectorsOnHeap);
        previous.close();
      }
    } catch (IOException e) {
      throw failure("refresh", e);
    }
    pending.clear();
    long took = System.nanoTime() - start;
    refreshes++;
    refreshNanos += took;
    LOG.debug(
        "{}: refreshed {} pending vectors in {} ms, {} segments",
        location,
        pendingBefore,
        took / 1_000_000,
        view.segmentCount());
  }

  /**
   * Merges the index down to at most {@code maxSegments} segments, waits for it, and refreshes.
   * Expensive (it rebuilds HNSW graphs); meant for benchmarks and quiet periods.
   */
  public void forceMerge(int maxSegments) {
    ensureOpenNoBulkLoad();
    if (maxSegments < 1) {
      throw new IllegalArgumentException("maxSegments is " + maxSegments + "; it must be >= 1");
    }
    try {
      writer.forceMerge(maxSegments, true);
    } catch (IOException e) {
      throw failure("force-merge to " + maxSegments + " segments", e);
    }
    refresh();
  }

  /**
   * Waits until no background merge is running or waiting to run, then refreshes, so that searches
   * see the merged segments. For tests, benchmarks and quiet periods (before a commit meant to be
   * copied, say); the operator never needs to wait.
   */
  public void awaitMerges() {
    ensureOpen();
    try {
      do {
        writer.maybeMerge();
        mergeScheduler.sync();
        // The reopen applies deletes, which may start merges of its own: wait for those too.
        refresh();
      } while (writer.hasPendingMerges() || mergeScheduler.mergeThreadCount() > 0);
    } catch (IOException e) {
      throw failure("wait for merges", e);
    }
  }

  /** Number of segments searches go through (each has its own HNSW graph). */
  public int segmentCount() {
    ensureOpen();
    return view.segmentCount();
  }

  /** Counters for metrics and benchmarks. */
  public Stats stats() {
    ensureOpen();
    return new Stats(
        size(),
        pending.size(),
        view.segmentCount(),
        refreshes,
        refreshNanos / 1_000_000,
        mergeScheduler.mergesCompleted(),
        mergeScheduler.mergeCpuNanos() / 1_000_000);
  }

  /**
   * Counters of a shard index.
   *
   * @param liveProducts live products, pending included
   * @param pendingVectors vectors written since the last refresh
   * @param segments segments searched through
   * @param refreshes refreshes so far
   * @param refreshMillis time spent in refreshes (flushes and reader reopens)
   * @param mergesCompleted background and forced merges finished
   * @param mergeCpuMillis CPU time merge threads spent merging
   */
  public record Stats(
      int liveProducts,
      int pendingVectors,
      int segments,
      long refreshes,
      long refreshMillis,
      long mergesCompleted,
      long mergeCpuMillis) {}

  /**
   * Makes every write so far durable as one Lucene commit carrying {@code userData} (for example the
   * Flink checkpoint it belongs to), and describes it. Does not refresh searches.
   */
  public ShardCommit commit(Map<String, String> userData) {
    ensureOpenNoBulkLoad();
    Map<String, String> data = Map.copyOf(Objects.requireNonNull(userData, "userData"));
    try {
      writer.setLiveCommitData(data.entrySet());
      writer.commit();
      List<IndexCommit> commits = DirectoryReader.listCommits(directory);
      IndexCommit last = commits.get(commits.size() - 1);
      Map<String, Long> sizes = new HashMap<>();
      for (String file : last.getFileNames()) {
        sizes.put(file, directory.fileLength(file));
      }
      // After a commit nothing is buffered, so the writer's count is the commit's.
      return new ShardCommit(
          last.getGeneration(),
          last.getSegmentsFileName(),
          last.getUserData(),
          sizes,
          writer.getDocStats().numDocs);
    } catch (IOException e) {
      throw failure("commit", e);
    }
  }

  /**
   * The bytes of one file of the last {@link #commit}, for copying the commit elsewhere. Lucene
   * never rewrites a file under the same name, so equal names within one index mean equal bytes;
   * the next commit may delete the file.
   *
   * @throws java.nio.file.NoSuchFileException (wrapped) if the file is no longer in the index
   */
  public byte[] readCommitFile(String fileName) {
    ensureOpen();
    try (IndexInput in = directory.openInput(fileName, IOContext.READONCE)) {
      long length = in.length();
      if (length > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException(location + ": file " + fileName + " is " + length + " bytes, too big to copy in one piece");
      }
      byte[] bytes = new byte[(int) length];
      in.readBytes(bytes, 0, bytes.length);
      return bytes;
    } catch (IOException e) {
      throw failure("read file " + fileName, e);
    }
  }

  /**
   * Releases the index. Does not commit: writes since the last {@link #commit} are discarded. A
   * background merge still running is aborted, not waited for: close returns within one vector read
   * of the merge's graph build (a merge of 500,000 vectors once held a cancelled shard for minutes).
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try (Directory ignored = directory;
        IndexWriter ignoredWriter = writer;
        MaskedReaderView ignoredView = view) {
      // closed in reverse order: view, writer (rolls back, aborting running merges), directory
    } catch (IOException e) {
      throw failure("close", e);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException(location + " is closed");
    }
  }

  private void ensureOpenNoBulkLoad() {
    ensureOpen();
    if (bulkLoadAdded >= 0) {
      throw new IllegalStateException(
          location
              + " has a bulk load in parts open ("
              + bulkLoadAdded
              + " image nodes written): end it with endBulkLoad() first");
    }
  }

  private static void requireId(String productId) {
    Objects.requireNonNull(productId, "productId");
    if (productId.isBlank()) {
      throw new IllegalArgumentException("productId is blank; every product needs a non-blank id");
    }
  }

  private UncheckedIOException failure(String action, IOException e) {
    return new UncheckedIOException(action + " failed on " + location + ": " + e.getMessage(), e);
  }

  /**
   * Settings of a {@link ShardIndex}. Every setting but {@link #dimension(int)} has a default;
   * {@link #build()} checks them all and names each one that is wrong.
   */
  public static final class Builder {

    public static final int DEFAULT_MAX_CONN = 16;
    public static final int DEFAULT_BEAM_WIDTH = 100;
    public static final int DEFAULT_SEARCH_CANDIDATES = 100;
    public static final int DEFAULT_REFRESH_PENDING_THRESHOLD = 2_000;
    public static final Duration DEFAULT_REFRESH_MAX_AGE = Duration.ofSeconds(10);
    public static final double DEFAULT_RAM_BUFFER_MB = 256;
    public static final double DEFAULT_MERGE_SEGMENTS_PER_TIER = 2;
    /**
     * Default floor, in vectors: segments holding fewer are merged with each other before any is
     * merged into a bigger one. Converted to MB with {@link #approximateBytesPerVector}: 15 MB at
     * 128 dimensions and maxConn 16.
     */
    public static final int DEFAULT_MERGE_FLOOR_SEGMENT_VECTORS = 25_000;
    public static final double DEFAULT_MERGE_DELETES_PCT_ALLOWED = 20;
    public static final int DEFAULT_MERGE_MAX_SEGMENTS = 0;
    public static final double DEFAULT_MERGE_FULL_RATIO = 0.25;

    /**
     * Bytes one vector takes in a segment: its floats and its bottom-layer HNSW neighbour list
     * (2 x maxConn ints); upper layers and the id add a few percent.
     */
    public static double approximateBytesPerVector(int dimension, int maxConn) {
      return 4.0 * dimension + 8.0 * maxConn;
    }

    /** The floor in MB: as set, or derived from the dimension and maxConn. */
    double effectiveMergeFloorSegmentMb() {
      return mergeFloorSegmentMb > 0
          ? mergeFloorSegmentMb
          : DEFAULT_MERGE_FLOOR_SEGMENT_VECTORS
              * approximateBytesPerVector(dimension, maxConn)
              / (1024.0 * 1024.0);
    }

    /** Lucene's per-thread indexing buffer cannot exceed this. */
    private static final double MAX_RAM_BUFFER_MB = 1945;

    private int dimension;
    private Path directory;
    private int maxConn = DEFAULT_MAX_CONN;
    private int beamWidth = DEFAULT_BEAM_WIDTH;
    private int searchCandidates = DEFAULT_SEARCH_CANDIDATES;
    private int refreshPendingThreshold = DEFAULT_REFRESH_PENDING_THRESHOLD;
    private Duration refreshMaxAge = DEFAULT_REFRESH_MAX_AGE;
    private double ramBufferMb = DEFAULT_RAM_BUFFER_MB;
    private double mergeSegmentsPerTier = DEFAULT_MERGE_SEGMENTS_PER_TIER;
    private double mergeFloorSegmentMb; // 0 = derived from dimension and maxConn
    private double mergeDeletesPctAllowed = DEFAULT_MERGE_DELETES_PCT_ALLOWED;
    private int mergeMaxSegments = DEFAULT_MERGE_MAX_SEGMENTS;
    private double mergeFullRatio = DEFAULT_MERGE_FULL_RATIO;

    private Builder() {}

    /** Length of every vector (the embedding model's output size). Required. */
    public Builder dimension(int dimension) {
      this.dimension = dimension;
      return this;
    }

    /**
     * Folder holding the index (opened if it holds one, created otherwise); {@code null}, the
     * default, keeps the index in memory.
     */
    public Builder directory(Path directory) {
      this.directory = directory;
      return this;
    }

    /** HNSW neighbours per node (Lucene's maxConn, hnswlib's M). Default 16. */
    public Builder maxConn(int maxConn) {
      this.maxConn = maxConn;
      return this;
    }

    /** HNSW candidates kept while inserting (efConstruction). Default 100. */
    public Builder beamWidth(int beamWidth) {
      this.beamWidth = beamWidth;
      return this;
    }

    /**
     * HNSW candidates per query (efSearch): results come from the best of this many. Higher gives
     * better recall and slower queries. Default 100.
     */
    public Builder searchCandidates(int searchCandidates) {
      this.searchCandidates = searchCandidates;
      return this;
    }

    /** Pending vectors that trigger a refresh. Default 2,000. */
    public Builder refreshPendingThreshold(int refreshPendingThreshold) {
      this.refreshPendingThreshold = refreshPendingThreshold;
      return this;
    }

    /**
     * Age of the oldest unrefreshed write that triggers a refresh. Default 10 s: under about 200
     * writes/s it decides how big flushed segments are (bigger means fewer segments and merges);
     * above that the pending threshold refreshes first.
     */
    public Builder refreshMaxAge(Duration refreshMaxAge) {
      this.refreshMaxAge = refreshMaxAge;
      return this;
    }

    /**
     * Indexing buffer in MB; a segment is flushed when it fills, so it bounds what {@link
     * ShardIndex#bulkLoad} builds as one segment. Default 256.
     */
    public Builder ramBufferMb(double ramBufferMb) {
      this.ramBufferMb = ramBufferMb;
      return this;
    }

    /**
     * Segments allowed per size tier before a merge (TieredMergePolicy), at least 2. Lower keeps
     * fewer segments (faster search) at the price of more merging. Default 2.
     */
    public Builder mergeSegmentsPerTier(double mergeSegmentsPerTier) {
      this.mergeSegmentsPerTier = mergeSegmentsPerTier;
      return this;
    }

    /**
     * Segments smaller than this many MB count as this size when merges are chosen, so small
     * flushed segments are merged with each other rather than into the big one. Default: the size
     * of {@value #DEFAULT_MERGE_FLOOR_SEGMENT_VECTORS} vectors with their graph (15 MB at 128
     * dimensions, 78 MB at 784).
     */
    public Builder mergeFloorSegmentMb(double mergeFloorSegmentMb) {
      this.mergeFloorSegmentMb = mergeFloorSegmentMb;
      return this;
    }

    /**
     * Percentage of deleted (overwritten) documents tolerated before merges reclaim them, 5 to 50.
     * Default 20.
     */
    public Builder mergeDeletesPctAllowed(double mergeDeletesPctAllowed) {
      this.mergeDeletesPctAllowed = mergeDeletesPctAllowed;
      return this;
    }

    /**
     * 0 (the default): natural merges are TieredMergePolicy's ({@link #mergeSegmentsPerTier},
     * {@link #mergeFloorSegmentMb}, {@link #mergeDeletesPctAllowed}). At least 2: the segments (each
     * an HNSW graph every search walks) a shard keeps once background merges finish: one big segment
     * and smaller recent ones, merged with each other as they pile up and into the big one once
     * they hold {@link #mergeFullRatio} of its bytes ({@code internal.FewSegmentsMergePolicy}).
     * Settled, such a shard searches like a force-merged one; but under random overwrites its
     * merges keep rewriting segments with deletions, which Lucene re-inserts vector by vector: about
     * 6x TieredMergePolicy's merge CPU per write (docs/shard-index.md). For append-mostly shards and
     * bulk phases.
     */
    public Builder mergeMaxSegments(int mergeMaxSegments) {
      this.mergeMaxSegments = mergeMaxSegments;
      return this;
    }

    /**
     * With {@link #mergeMaxSegments} above 0: the bytes of the smaller segments, as a fraction of
     * the biggest, at which every segment is merged into one, in (0, 1]. Lower keeps the small
     * segments smaller (faster searches) for more rewrites of the big one (about {@code 1 / ratio}
     * graph insertions per written product). Default {@value #DEFAULT_MERGE_FULL_RATIO}.
     */
    public Builder mergeFullRatio(double mergeFullRatio) {
      this.mergeFullRatio = mergeFullRatio;
      return this;
    }

    /**
     * Checks every setting and opens the index.
     *
     * @throws IllegalArgumentException naming every setting that is wrong and its allowed range
     * @throws IllegalStateException if the directory holds an index of another dimension
     * @throws UncheckedIOException if the directory cannot be opened
     */
    public ShardIndex build() {
      List<String> problems = new ArrayList<>();
      int maxDimensions = HnswShardCodec.maxDimensions();
      if (dimension < 1 || dimension > maxDimensions) {
        problems.add(
            dimension == 0
                ? "dimension is not set: call dimension(n) with the embedding's length"
                : "dimension is " + dimension + "; it must be between 1 and " + maxDimensions);
      }
      if (maxConn < 1 || maxConn > 512) {
        problems.add("maxConn is " + maxConn + "; it must be between 1 and 512 (default 16)");
      }
      if (beamWidth < 1 || beamWidth > 3200) {
        problems.add("beamWidth is " + beamWidth + "; it must be between 1 and 3200 (default 100)");
      }
      if (searchCandidates < 1) {
        problems.add("searchCandidates is " + searchCandidates + "; it must be at least 1");
      }
      if (refreshPendingThreshold < 1) {
        problems.add(
            "refreshPendingThreshold is " + refreshPendingThreshold + "; it must be at least 1");
      }
      if (refreshMaxAge == null || refreshMaxAge.isNegative() || refreshMaxAge.isZero()) {
        problems.add("refreshMaxAge is " + refreshMaxAge + "; it must be a positive duration");
      }
      if (!(ramBufferMb > 0 && ramBufferMb <= MAX_RAM_BUFFER_MB)) {
        problems.add(
            "ramBufferMb is " + ramBufferMb + "; it must be above 0 and at most " + MAX_RAM_BUFFER_MB);
      }
      if (!(mergeSegmentsPerTier >= 2)) {
        problems.add("mergeSegmentsPerTier is " + mergeSegmentsPerTier + "; it must be at least 2");
      }
      if (!(mergeFloorSegmentMb >= 0)) {
        problems.add(
            "mergeFloorSegmentMb is "
                + mergeFloorSegmentMb
                + "; it must be above 0, or 0 to derive it from the dimension");
      }
      if (!(mergeDeletesPctAllowed >= 5 && mergeDeletesPctAllowed <= 50)) {
        problems.add(
            "mergeDeletesPctAllowed is " + mergeDeletesPctAllowed + "; it must be between 5 and 50");
      }
      if (mergeMaxSegments != 0 && mergeMaxSegments < 2) {
        problems.add(
            "mergeMaxSegments is "
                + mergeMaxSegments
                + "; it must be at least 2, or 0 for TieredMergePolicy alone");
      }
      if (!(mergeFullRatio > 0 && mergeFullRatio <= 1)) {
        problems.add("mergeFullRatio is " + mergeFullRatio + "; it must be above 0 and at most 1");
      }
      if (directory != null && Files.exists(directory) && !Files.isDirectory(directory)) {
        problems.add("directory " + directory + " is a file; give a folder, or null for in-memory");
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException(
            "invalid ShardIndex settings: " + String.join("; ", problems));
      }
      try {
        return new ShardIndex(this);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot open shard index in "
                + (directory == null ? "memory" : directory)
                + ": "
                + e.getMessage(),
            e);
      }
    }
  }
}
