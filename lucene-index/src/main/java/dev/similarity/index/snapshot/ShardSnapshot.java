package dev.similarity.index.snapshot;

import dev.similarity.index.internal.LeafBitsQuery;
import dev.similarity.index.internal.ProductDocuments;
import dev.similarity.index.internal.VectorChecks;
import dev.similarity.index.snapshot.SnapshotManifest.SnapshotFile;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.lucene.codecs.StoredFieldsReader;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DocumentStoredFieldVisitor;
import org.apache.lucene.index.CodecReader;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.KnnVectorValues;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexOutput;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.FixedBitSet;
import org.apache.lucene.util.IOUtils;

/**
 * One shard's published snapshot, loaded for searching: into the heap, or into a private local
 * folder it is memory-mapped from (faster searches, index outside the heap). Every file is checked
 * against the manifest's size and SHA-256 before Lucene opens the commit, so a loaded snapshot is
 * exactly the published one. Immutable and thread-safe: any number of threads may search at once;
 * {@link #close()} must wait until none does.
 *
 * <p>Each product's id, category and image URL are read once at load into arrays by document
 * number: turning a hit into a result then costs an array read, where Lucene's stored fields
 * would decompress part of a block per hit (the bulk of a query's time on a serving path).
 *
 * <p><b>Images.</b> A node of the index is a product, or a distinct image standing for the products
 * that show it (its members, see {@link dev.similarity.index.ShardIndex#putMember}), which live in
 * the image's shard. A hit on an image node is reported once, as its representative: the member with
 * the lowest sequence (of the filtered category, when there is a filter), so one placeholder picture
 * never fills a result list. Products that share the query product's image are left out with it. A
 * product of an image is found by its id in the shard of that id, from its product document (see
 * {@link dev.similarity.index.ShardIndex#putProduct}), with a stored copy of its image's vector.
 */
public final class ShardSnapshot implements Closeable {

  /** HNSW candidates per query unless the caller asks for more (efSearch). */
  public static final int DEFAULT_SEARCH_CANDIDATES = 100;

  private final SnapshotManifest manifest;
  private final Directory directory;
  /** The folder the snapshot was copied to and memory-mapped from, deleted on close; null in heap. */
  private final Path localFolder;
  private final DirectoryReader reader;
  private final IndexSearcher searcher;
  /** By document number, for product nodes and product documents; null for other documents. */
  private final String[] ids;
  private final String[] categories;
  private final String[] imageUrls;
  /** By document number, for product documents: the key of the image they show. */
  private final String[] imageKeys;
  /** By document number, for image nodes: their members, lowest sequence first; null otherwise. */
  private final Member[][] membersOfNode;
  /** Image key -> its node's document number. */
  private final Map<String, Integer> imageNodes = new HashMap<>();
  /** Every live product: its product node or product document. */
  private final Map<String, Integer> byId;
  /** Live product ids in document order, for browsing. */
  private final List<String> productOrder = new ArrayList<>();
  /** Per category, per leaf: the nodes with a product of that category (a search filter). */
  private final Map<String, FixedBitSet[]> nodesByCategory = new HashMap<>();

  /** A product showing an image. */
  private record Member(String productId, long sequence, String category, String imageUrl) {}

  private ShardSnapshot(
      SnapshotManifest manifest, Directory directory, Path localFolder, DirectoryReader reader)
      throws IOException {
    this.manifest = manifest;
    this.directory = directory;
    this.localFolder = localFolder;
    this.reader = reader;
    this.searcher = new IndexSearcher(reader);
    this.searcher.setQueryCache(null);
    int maxDoc = reader.maxDoc();
    this.ids = new String[maxDoc];
    this.categories = new String[maxDoc];
    this.imageUrls = new String[maxDoc];
    this.imageKeys = new String[maxDoc];
    this.membersOfNode = new Member[maxDoc][];
    this.byId = HashMap.newHashMap(reader.numDocs());
    readProducts();
  }

  private void readProducts() throws IOException {
    Map<String, String> sharedStrings = new HashMap<>();
    Map<String, List<Member>> membersByImage = new HashMap<>();
    for (LeafReaderContext leaf : reader.leaves()) {
      LeafReader segment = leaf.reader();
      Bits live = segment.getLiveDocs();
      // A merge instance decompresses each block of stored fields once for in-order reads.
      StoredFieldsReader merging = segment instanceof CodecReader codec && codec.getFieldsReader() != null
          ? codec.getFieldsReader().getMergeInstance() : null;
      StoredFields stored = merging == null ? segment.storedFields() : null;
      for (int doc = 0; doc < segment.maxDoc(); doc++) {
        if (live != null && !live.get(doc)) {
          continue;
        }
        // Product vectors are read when a product is looked up, not here.
        DocumentStoredFieldVisitor visitor = new DocumentStoredFieldVisitor() {
          @Override
          public Status needsField(org.apache.lucene.index.FieldInfo field) throws IOException {
            return field.name.equals(ProductDocuments.PRODUCT_VECTOR_FIELD) ? Status.NO : super.needsField(field);
          }
        };
        if (merging != null) {
          merging.document(doc, visitor);
        } else {
          stored.document(doc, visitor);
        }
        Document fields = visitor.getDocument();
        int global = leaf.docBase + doc;
        String kind = fields.get(ProductDocuments.KIND_FIELD);
        String category = fields.get(ProductDocuments.CATEGORY_FIELD);
        category = category == null ? null : sharedStrings.computeIfAbsent(category, c -> c);
        if (ProductDocuments.MEMBER_KIND.equals(kind)) {
          String image = fields.get(ProductDocuments.MEMBER_IMAGE_FIELD);
          membersByImage.computeIfAbsent(image, i -> new ArrayList<>()).add(new Member(
              fields.get(ProductDocuments.MEMBER_ID_FIELD),
              fields.getField(ProductDocuments.MEMBER_SEQUENCE_FIELD).numericValue().longValue(),
              category, fields.get(ProductDocuments.IMAGE_URL_FIELD)));
        } else if (ProductDocuments.IMAGE_KIND.equals(kind)) {
          imageNodes.put(fields.get(ProductDocuments.ID_FIELD), global);
        } else {
          boolean product = ProductDocuments.PRODUCT_KIND.equals(kind);
          String id = fields.get(product ? ProductDocuments.PRODUCT_ID_FIELD : ProductDocuments.ID_FIELD);
          ids[global] = id;
          categories[global] = category;
          imageUrls[global] = fields.get(ProductDocuments.IMAGE_URL_FIELD);
          if (product) {
            imageKeys[global] = fields.get(ProductDocuments.PRODUCT_IMAGE_FIELD);
          } else if (category != null) {
            markNode(category, global);
          }
          byId.put(id, global);
          productOrder.add(id);
        }
      }
    }
    for (Map.Entry<String, List<Member>> image : membersByImage.entrySet()) {
      Integer node = imageNodes.get(image.getKey());
      if (node == null) {
        continue; // members of an image this snapshot does not hold
      }
      List<Member> members = image.getValue();
      members.sort(Comparator.comparingLong(Member::sequence).thenComparing(Member::productId));
      membersOfNode[node] = members.toArray(new Member[0]);
      for (Member member : members) {
        if (member.category() != null) {
          markNode(member.category(), node);
        }
      }
    }
  }

  private void markNode(String category, int globalDoc) {
    List<LeafReaderContext> leaves = reader.leaves();
    FixedBitSet[] perLeaf = nodesByCategory.computeIfAbsent(category, c -> new FixedBitSet[leaves.size()]);
    LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(globalDoc, leaves));
    if (perLeaf[leaf.ord] == null) {
      perLeaf[leaf.ord] = new FixedBitSet(leaf.reader().maxDoc());
    }
    perLeaf[leaf.ord].set(globalDoc - leaf.docBase);
  }

  /**
   * Loads the snapshot {@code manifest} describes into the heap.
   *
   * @throws SnapshotCorruptException if a file does not match the manifest, or Lucene finds the
   *     commit inconsistent
   * @throws UncheckedIOException if the store cannot be read (e.g. retention removed the snapshot)
   */
  public static ShardSnapshot load(SnapshotStore store, SnapshotManifest manifest)
      throws SnapshotCorruptException {
    return load(store, manifest, new ByteBuffersDirectory(), null);
  }

  /**
   * Loads the snapshot {@code manifest} describes into {@code localFolder} (created; it must not
   * exist yet) and memory-maps it from there: the index lives in the page cache instead of the
   * heap, and vector scoring reads it in place, which makes searches faster than {@link
   * #load(SnapshotStore, SnapshotManifest) in the heap}. {@link #close()} deletes the folder.
   *
   * @throws SnapshotCorruptException if a file does not match the manifest, or Lucene finds the
   *     commit inconsistent
   * @throws UncheckedIOException if the store cannot be read (e.g. retention removed the snapshot)
   *     or the folder cannot be written
   */
  public static ShardSnapshot load(SnapshotStore store, SnapshotManifest manifest, Path localFolder)
      throws SnapshotCorruptException {
    Directory directory;
    try {
      Files.createDirectories(localFolder.getParent());
      Files.createDirectory(localFolder);
      directory = new MMapDirectory(localFolder);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + localFolder + " for the snapshot of shard "
          + manifest.shard() + " at checkpoint " + manifest.checkpointId() + ": " + e.getMessage(), e);
    }
    return load(store, manifest, directory, localFolder);
  }

  private static ShardSnapshot load(
      SnapshotStore store, SnapshotManifest manifest, Directory directory, Path localFolder)
      throws SnapshotCorruptException {
    try {
      copyFiles(store, manifest, directory, localFolder);
      DirectoryReader reader;
      try {
        reader = DirectoryReader.open(directory);
      } catch (IOException e) {
        throw new SnapshotCorruptException(
            "cannot open snapshot of shard " + manifest.shard() + " at checkpoint "
                + manifest.checkpointId() + ": " + e.getMessage());
      }
      if (reader.numDocs() != manifest.documentCount()) {
        IOUtils.closeWhileHandlingException(reader);
        throw new SnapshotCorruptException(
            "snapshot of shard " + manifest.shard() + " at checkpoint " + manifest.checkpointId()
                + " holds " + reader.numDocs() + " documents; its manifest says " + manifest.documentCount());
      }
      try {
        return new ShardSnapshot(manifest, directory, localFolder, reader);
      } catch (IOException e) {
        IOUtils.closeWhileHandlingException(reader);
        throw new SnapshotCorruptException(
            "cannot read the products of snapshot of shard " + manifest.shard() + " at checkpoint "
                + manifest.checkpointId() + ": " + e.getMessage());
      } catch (RuntimeException e) {
        IOUtils.closeWhileHandlingException(reader);
        throw e;
      }
    } catch (SnapshotCorruptException | RuntimeException e) {
      discard(directory, localFolder, e);
      throw e;
    }
  }

  /** Every file of the snapshot, checked against the manifest, into {@code directory}. */
  private static void copyFiles(
      SnapshotStore store, SnapshotManifest manifest, Directory directory, Path localFolder)
      throws SnapshotCorruptException {
    // segments_N last, as Lucene itself writes a commit.
    List<SnapshotFile> ordered = new ArrayList<>(manifest.files());
    ordered.sort((a, b) -> Boolean.compare(
        a.name().equals(manifest.segmentsFileName()), b.name().equals(manifest.segmentsFileName())));
    for (SnapshotFile file : ordered) {
      byte[] content = store.readBlob(manifest.shard(), file);
      try (IndexOutput out = directory.createOutput(file.name(), IOContext.DEFAULT)) {
        out.writeBytes(content, content.length);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot copy " + file.name() + " of the snapshot of shard "
            + manifest.shard() + " at checkpoint " + manifest.checkpointId() + " to "
            + (localFolder == null ? "memory" : localFolder) + ": " + e.getMessage(), e);
      }
    }
  }

  private static void discard(Directory directory, Path localFolder, Exception failure) {
    IOUtils.closeWhileHandlingException(directory);
    if (localFolder != null) {
      try {
        IOUtils.rm(localFolder);
      } catch (IOException e) {
        failure.addSuppressed(e);
      }
    }
  }

  public SnapshotManifest manifest() {
    return manifest;
  }

  /** Live products in the snapshot: products with a node of their own and members of shared images. */
  public int documentCount() {
    return productOrder.size();
  }

  /** Bytes of index data held in memory (the heap, or the page cache when memory-mapped). */
  public long ramBytes() {
    return manifest.totalBytes();
  }

  /**
   * As {@link #search(float[], int, String, String, String, int)}, leaving out the image of {@code
   * excludedId} when this snapshot holds its product document.
   */
  public List<SnapshotHit> search(
      float[] query, int k, String category, String excludedId, int candidates) {
    Integer doc = excludedId == null ? null : byId.get(excludedId);
    return search(query, k, category, excludedId, doc == null ? null : imageKeys[doc], candidates);
  }

  /**
   * The {@code k} products most similar to {@code query}, best first, scores as cosine. An image
   * shown by several products is one result, named by its representative (see the class comment).
   *
   * @param category only products of this category, or null for all
   * @param excludedId a product never to return (the query's own product), or null
   * @param excludedImageKey an image none of whose products to return (the query product's own), or
   *     null
   * @param candidates HNSW candidates (efSearch), at least k; higher finds more true neighbours
   */
  public List<SnapshotHit> search(float[] query, int k, String category, String excludedId,
      String excludedImageKey, int candidates) {
    VectorChecks.requireUnitVector("query vector", query, manifest.dimension());
    if (k < 1) {
      throw new IllegalArgumentException("k is " + k + "; it must be at least 1");
    }
    Integer excludedImage = excludedImageKey == null ? null : imageNodes.get(excludedImageKey);
    int excludedNode = excludedImage != null ? excludedImage : -1;
    Query filter = null;
    if (category != null) {
      FixedBitSet[] nodes = nodesByCategory.get(category);
      if (nodes == null) {
        return List.of();
      }
      filter = new LeafBitsQuery("nodes with a product of category " + category, nodes);
    }
    int asked = Math.max(candidates, k + (excludedId == null && excludedNode < 0 ? 0 : 1));
    try {
      TopDocs top =
          searcher.search(new KnnFloatVectorQuery(ProductDocuments.VECTOR_FIELD, query, asked, filter), asked);
      List<SnapshotHit> hits = new ArrayList<>(k);
      for (ScoreDoc hit : top.scoreDocs) {
        if (hits.size() == k) {
          break;
        }
        if (hit.doc == excludedNode) {
          continue;
        }
        float score = ProductDocuments.cosineFromLuceneScore(hit.score);
        Member[] members = membersOfNode[hit.doc];
        if (members != null) {
          Member shown = representative(members, category, excludedId);
          if (shown != null) {
            hits.add(new SnapshotHit(shown.productId(), score, shown.category(), shown.imageUrl()));
          }
        } else if (ids[hit.doc] != null && !ids[hit.doc].equals(excludedId)) {
          hits.add(new SnapshotHit(ids[hit.doc], score, categories[hit.doc], imageUrls[hit.doc]));
        }
      }
      return hits;
    } catch (IOException e) {
      throw new UncheckedIOException("search of shard " + manifest.shard() + " failed: " + e.getMessage(), e);
    }
  }

  /** The member with the lowest sequence, of {@code category} when not null, other than {@code excluded}. */
  private static Member representative(Member[] members, String category, String excluded) {
    for (Member member : members) {
      if ((category == null || category.equals(member.category())) && !member.productId().equals(excluded)) {
        return member;
      }
    }
    return null;
  }

  /** The product with this id, with its vector (its image's), if the snapshot holds it. */
  public Optional<SnapshotProduct> product(String productId) {
    Integer doc = byId.get(productId);
    if (doc == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(productAt(doc));
    } catch (IOException e) {
      throw new UncheckedIOException("lookup of " + productId + " failed: " + e.getMessage(), e);
    }
  }

  /** Up to {@code count} live products in index order starting at the {@code from}-th, for browsing. */
  public List<SnapshotProduct> products(int from, int count) {
    List<SnapshotProduct> products = new ArrayList<>();
    try {
      for (int i = from; i < productOrder.size() && products.size() < count; i++) {
        products.add(productAt(byId.get(productOrder.get(i))));
      }
      return products;
    } catch (IOException e) {
      throw new UncheckedIOException("listing shard " + manifest.shard() + " failed: " + e.getMessage(), e);
    }
  }

  private SnapshotProduct productAt(int doc) throws IOException {
    LeafReaderContext leaf = reader.leaves().get(ReaderUtil.subIndex(doc, reader.leaves()));
    int local = doc - leaf.docBase;
    float[] vector;
    if (imageKeys[doc] != null) {
      Document stored = leaf.reader().storedFields().document(local, java.util.Set.of(ProductDocuments.PRODUCT_VECTOR_FIELD));
      vector = ProductDocuments.storedVector(stored.getBinaryValue(ProductDocuments.PRODUCT_VECTOR_FIELD));
    } else {
      FloatVectorValues values = leaf.reader().getFloatVectorValues(ProductDocuments.VECTOR_FIELD);
      KnnVectorValues.DocIndexIterator iterator = values.iterator();
      if (iterator.advance(local) != local) {
        throw new IllegalStateException("product document " + doc + " has no vector");
      }
      vector = values.vectorValue(iterator.index()).clone();
    }
    return new SnapshotProduct(ids[doc], vector, categories[doc], imageUrls[doc], imageKeys[doc]);
  }

  @Override
  public void close() throws IOException {
    try (directory) {
      reader.close();
    } finally {
      if (localFolder != null) {
        IOUtils.rm(localFolder); // skips a folder already gone
      }
    }
  }

  /** A search result: similarity is the cosine of the two embeddings. */
  public record SnapshotHit(String productId, float score, String category, String imageUrl) {}

  /**
   * A product as the snapshot holds it; category and imageUrl may be null; imageKey is the image it
   * shows, null for a product that is a node of its own.
   */
  public record SnapshotProduct(String productId, float[] vector, String category, String imageUrl, String imageKey) {}
}
