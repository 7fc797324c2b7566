package dev.similarity.index.snapshot;

import dev.similarity.index.internal.ProductDocuments;
import dev.similarity.index.internal.VectorChecks;
import dev.similarity.index.snapshot.SnapshotManifest.SnapshotFile;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.lucene.document.Document;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.KnnVectorValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.IOContext;
import org.apache.lucene.store.IndexOutput;
import org.apache.lucene.util.IOUtils;

/**
 * One shard's published snapshot, loaded into memory for searching. Every file is checked against
 * the manifest's size and SHA-256 before Lucene opens the commit, so a loaded snapshot is exactly
 * the published one. Immutable and thread-safe: any number of threads may search at once.
 */
public final class ShardSnapshot implements Closeable {

  /** HNSW candidates per query unless the caller asks for more (efSearch). */
  public static final int DEFAULT_SEARCH_CANDIDATES = 100;

  private final SnapshotManifest manifest;
  private final ByteBuffersDirectory directory;
  private final DirectoryReader reader;
  private final IndexSearcher searcher;

  private ShardSnapshot(SnapshotManifest manifest, ByteBuffersDirectory directory, DirectoryReader reader) {
    this.manifest = manifest;
    this.directory = directory;
    this.reader = reader;
    this.searcher = new IndexSearcher(reader);
    this.searcher.setQueryCache(null);
  }

  /**
   * Loads the snapshot {@code manifest} describes.
   *
   * @throws SnapshotCorruptException if a file does not match the manifest, or Lucene finds the
   *     commit inconsistent
   * @throws UncheckedIOException if the store cannot be read (e.g. retention removed the snapshot)
   */
  public static ShardSnapshot load(SnapshotStore store, SnapshotManifest manifest)
      throws SnapshotCorruptException {
    ByteBuffersDirectory directory = new ByteBuffersDirectory();
    try {
      // segments_N last, as Lucene itself writes a commit.
      List<SnapshotFile> ordered = new ArrayList<>(manifest.files());
      ordered.sort((a, b) -> Boolean.compare(
          a.name().equals(manifest.segmentsFileName()), b.name().equals(manifest.segmentsFileName())));
      for (SnapshotFile file : ordered) {
        byte[] content = store.readBlob(manifest.shard(), file);
        try (IndexOutput out = directory.createOutput(file.name(), IOContext.DEFAULT)) {
          out.writeBytes(content, content.length);
        }
      }
      DirectoryReader reader = DirectoryReader.open(directory);
      if (reader.numDocs() != manifest.documentCount()) {
        reader.close();
        throw new SnapshotCorruptException(
            "snapshot of shard " + manifest.shard() + " at checkpoint " + manifest.checkpointId()
                + " holds " + reader.numDocs() + " documents; its manifest says " + manifest.documentCount());
      }
      return new ShardSnapshot(manifest, directory, reader);
    } catch (SnapshotCorruptException e) {
      IOUtils.closeWhileHandlingException(directory);
      throw e;
    } catch (IOException e) {
      IOUtils.closeWhileHandlingException(directory);
      throw new SnapshotCorruptException(
          "cannot open snapshot of shard " + manifest.shard() + " at checkpoint "
              + manifest.checkpointId() + ": " + e.getMessage());
    }
  }

  public SnapshotManifest manifest() {
    return manifest;
  }

  /** Live products in the snapshot. */
  public int documentCount() {
    return reader.numDocs();
  }

  /** Bytes of index data held in memory. */
  public long ramBytes() {
    return manifest.totalBytes();
  }

  /**
   * The {@code k} products most similar to {@code query}, best first, scores as cosine.
   *
   * @param category only products of this category, or null for all
   * @param excludedId a product never to return (the query's own product), or null
   * @param candidates HNSW candidates (efSearch), at least k; higher finds more true neighbours
   */
  public List<SnapshotHit> search(
      float[] query, int k, String category, String excludedId, int candidates) {
    VectorChecks.requireUnitVector("query vector", query, manifest.dimension());
    if (k < 1) {
      throw new IllegalArgumentException("k is " + k + "; it must be at least 1");
    }
    int asked = Math.max(candidates, k + (excludedId == null ? 0 : 1));
    Query filter = category == null ? null : new TermQuery(ProductDocuments.categoryTerm(category));
    try {
      TopDocs top =
          searcher.search(new KnnFloatVectorQuery(ProductDocuments.VECTOR_FIELD, query, asked, filter), asked);
      StoredFields stored = searcher.storedFields();
      List<SnapshotHit> hits = new ArrayList<>(k);
      for (ScoreDoc hit : top.scoreDocs) {
        if (hits.size() == k) {
          break;
        }
        Document doc = stored.document(hit.doc);
        String id = doc.get(ProductDocuments.ID_FIELD);
        if (!id.equals(excludedId)) {
          hits.add(new SnapshotHit(id, ProductDocuments.cosineFromLuceneScore(hit.score),
              doc.get(ProductDocuments.CATEGORY_FIELD), doc.get(ProductDocuments.IMAGE_URL_FIELD)));
        }
      }
      return hits;
    } catch (IOException e) {
      throw new UncheckedIOException("search of shard " + manifest.shard() + " failed: " + e.getMessage(), e);
    }
  }

  /** The product with this id, with its vector, if the snapshot holds it. */
  public Optional<SnapshotProduct> product(String productId) {
    try {
      TopDocs found = searcher.search(new TermQuery(ProductDocuments.idTerm(productId)), 1);
      if (found.scoreDocs.length == 0) {
        return Optional.empty();
      }
      return Optional.of(productAt(found.scoreDocs[0].doc));
    } catch (IOException e) {
      throw new UncheckedIOException("lookup of " + productId + " failed: " + e.getMessage(), e);
    }
  }

  /** Up to {@code count} live products in index order starting at the {@code from}-th, for browsing. */
  public List<SnapshotProduct> products(int from, int count) {
    List<SnapshotProduct> products = new ArrayList<>();
    try {
      int seen = 0;
      for (LeafReaderContext leaf : reader.leaves()) {
        var live = leaf.reader().getLiveDocs();
        for (int doc = 0; doc < leaf.reader().maxDoc() && products.size() < count; doc++) {
          if (live == null || live.get(doc)) {
            if (seen++ >= from) {
              products.add(productAt(leaf.docBase + doc));
            }
          }
        }
      }
      return products;
    } catch (IOException e) {
      throw new UncheckedIOException("listing shard " + manifest.shard() + " failed: " + e.getMessage(), e);
    }
  }

  private SnapshotProduct productAt(int doc) throws IOException {
    Document stored = searcher.storedFields().document(doc);
    LeafReaderContext leaf = reader.leaves().get(ReaderUtil.subIndex(doc, reader.leaves()));
    FloatVectorValues values = leaf.reader().getFloatVectorValues(ProductDocuments.VECTOR_FIELD);
    KnnVectorValues.DocIndexIterator iterator = values.iterator();
    int local = doc - leaf.docBase;
    if (iterator.advance(local) != local) {
      throw new IllegalStateException("product document " + doc + " has no vector");
    }
    return new SnapshotProduct(
        stored.get(ProductDocuments.ID_FIELD),
        values.vectorValue(iterator.index()).clone(),
        stored.get(ProductDocuments.CATEGORY_FIELD),
        stored.get(ProductDocuments.IMAGE_URL_FIELD));
  }

  @Override
  public void close() throws IOException {
    try (directory) {
      reader.close();
    }
  }

  /** A search result: similarity is the cosine of the two embeddings. */
  public record SnapshotHit(String productId, float score, String category, String imageUrl) {}

  /** A product as the snapshot holds it; category and imageUrl may be null. */
  public record SnapshotProduct(String productId, float[] vector, String category, String imageUrl) {}
}
