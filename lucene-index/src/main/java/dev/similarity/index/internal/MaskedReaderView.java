package dev.similarity.index.internal;

import java.io.Closeable;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.DocValues;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FilterDirectoryReader;
import org.apache.lucene.index.FilterLeafReader;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.index.SortedDocValues;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.search.AcceptDocs;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TopKnnCollector;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.FixedBitSet;

/**
 * A point-in-time NRT reader whose live documents can be narrowed after it was opened.
 *
 * <p>When a product indexed in this view is overwritten or deleted, {@link #hide} clears its bit in
 * a private copy of its segment's live-docs. Lucene's kNN search takes a segment's live docs as the
 * set of acceptable hits, so a hidden document is still traversed as an HNSW graph node but never
 * returned, and a query needs no extra candidates to make up for it. Copies are made per segment, on
 * its first hide.
 *
 * <p>Invariants: at most one visible document per product id; {@link #liveCount()} is the number of
 * visible node documents (members and products of images, which have no indexed vector, are not
 * counted and never hidden here). The live docs change in place, so readers of this view must not be cached by
 * reader identity: the reader cache helper is {@code null} and the searcher has no query cache.
 * Not thread-safe: hides and searches must come from one thread.
 */
public final class MaskedReaderView implements Closeable {

  private final DirectoryReader reader;
  private final MaskedDirectoryReader masked;
  private final IndexSearcher searcher;
  private final List<LeafReaderContext> leaves;
  /** By leaf ord: the segment's graph with its vectors on the heap; null to search via the reader. */
  private final SegmentGraph[] graphs;
  /** The same, by segment core, for the next view to reuse. */
  private final Map<Object, SegmentGraph> graphsByCore = new HashMap<>();
  /** Sum of nodesOf over the segments (at least 1). */
  private final long nodes;
  private int liveCount;

  private MaskedReaderView(DirectoryReader reader, MaskedReaderView previous, boolean vectorsOnHeap)
      throws IOException {
    this.reader = reader;
    this.masked = new MaskedDirectoryReader(reader);
    this.searcher = new IndexSearcher(masked);
    this.searcher.setQueryCache(null);
    this.leaves = masked.leaves();
    this.graphs = new SegmentGraph[leaves.size()];
    for (LeafReaderContext leaf : leaves) {
      if (!vectorsOnHeap) {
        break; // every segment searched through its reader (fast on memory-mapped files)
      }
      LeafReader segment = FilterLeafReader.unwrap(leaf.reader());
      IndexReader.CacheHelper core = segment.getCoreCacheHelper();
      SegmentGraph known =
          previous == null || core == null ? null : previous.graphsByCore.get(core.getKey());
      SegmentGraph graph = known != null ? known.reopenedBy(segment) : SegmentGraph.load(segment);
      graphs[leaf.ord] = graph;
      if (graph != null && core != null) {
        graphsByCore.put(core.getKey(), graph);
      }
    }
    long total = 0;
    for (LeafReaderContext leaf : leaves) {
      total += nodesOf(leaf);
    }
    this.nodes = Math.max(1, total);
    this.liveCount =
        reader.numDocs()
            - searcher.count(new TermQuery(ProductDocuments.kindTerm(ProductDocuments.MEMBER_KIND)))
            - searcher.count(new TermQuery(ProductDocuments.kindTerm(ProductDocuments.PRODUCT_KIND)));
  }

  /** Wraps {@code reader}, taking ownership: closing the view closes it. */
  public static MaskedReaderView open(DirectoryReader reader) throws IOException {
    return new MaskedReaderView(reader, null, true);
  }

  /**
   * As {@link #open(DirectoryReader)}, reusing what {@code previous} (a view of an earlier reader
   * of the same index, open or not) read from the segments the two share: their vectors' heap copies
   * and ids. Only new segments (a flush, a merge) are read.
   *
   * @param vectorsOnHeap copy each segment's vectors onto the heap for searching (for an in-memory
   *     directory, whose codec scorer copies every visited vector out of byte buffers); false
   *     searches every segment through its reader (a memory-mapped directory scores in place)
   */
  public static MaskedReaderView open(
      DirectoryReader reader, MaskedReaderView previous, boolean vectorsOnHeap) throws IOException {
    return new MaskedReaderView(reader, previous, vectorsOnHeap);
  }

  /**
   * The {@code candidates} visible nodes nearest to {@code query} by each segment's HNSW graph,
   * merged best first: view-wide doc ids and Lucene's scores. Hidden and deleted documents are
   * walked through as graph nodes but never returned.
   *
   * <p>Beam (efSearch) per segment: {@link #segmentBeam}, {@code candidates} for a segment holding
   * most of the shard, narrower for a small one, which holds few of the best hits.
   *
   * @param k results the caller keeps, at most {@code candidates}: no segment's beam is narrower
   */
  public TopDocs searchNearest(float[] query, int k, int candidates) throws IOException {
    TopDocs[] perLeaf = new TopDocs[leaves.size()];
    for (LeafReaderContext leaf : leaves) {
      SegmentGraph graph = graphs[leaf.ord];
      int beam = segmentBeam(k, candidates, nodesOf(leaf) / (double) nodes);
      Bits live = leaf.reader().getLiveDocs();
      TopDocs top;
      if (graph != null) {
        top = graph.search(query, beam, live);
      } else {
        TopKnnCollector collector = new TopKnnCollector(beam, Integer.MAX_VALUE);
        if (hasVectors(leaf.reader())) {
          leaf.reader()
              .searchNearestVectors(
                  ProductDocuments.VECTOR_FIELD,
                  query,
                  collector,
                  AcceptDocs.fromLiveDocs(live, leaf.reader().maxDoc()));
        }
        top = collector.topDocs();
      }
      for (ScoreDoc hit : top.scoreDocs) {
        hit.doc += leaf.docBase;
      }
      perLeaf[leaf.ord] = top;
    }
    return TopDocs.merge(candidates, perLeaf);
  }

  /** Graph nodes of a segment on the heap, else its documents (a memory-mapped one). */
  private int nodesOf(LeafReaderContext leaf) {
    SegmentGraph graph = graphs[leaf.ord];
    return graph != null ? graph.size() : leaf.reader().maxDoc();
  }

  /**
   * Standard deviations of margin in {@link #segmentBeam}. Lucene's per-segment k uses 16 (it has
   * a second pass for segments that were cut short; this path has none). Measured on a shard of 5
   * segments of our 128-d embeddings (80,000 + 20,000 + 8,000 + 4,000 + 2,000; both rules in one
   * JVM, interleaved, CPU time): with 4, k'=75 gives recall@10 0.9727 at 3,061 queries/s where 16
   * gives 0.9735 at 2,372 with k'=50 (+29 %), +17-22 % at recall 0.98-0.987 (docs/shard-index.md).
   */
  static final double BEAM_MARGIN = 4;

  /**
   * Beam for a segment holding {@code fraction} of the shard's nodes: Lucene's per-segment k for a
   * multi-segment kNN query with a narrower margin, {@code c p + 4 sqrt(c p (1 - p))} for {@code c
   * = candidates} (the segment's expected share of the best {@code c}, the mean of a binomial, plus
   * {@link #BEAM_MARGIN} of its standard deviations), within [{@code k}, {@code candidates}]. At c =
   * 50 a segment with 20 % of the nodes gets 22, one with 3 % gets 10 (k). A segment of the whole
   * shard gets all {@code candidates}.
   */
  static int segmentBeam(int k, int candidates, double fraction) {
    double p = Math.min(1, Math.max(0, fraction));
    double beam = candidates * p + BEAM_MARGIN * Math.sqrt(candidates * p * (1 - p));
    return Math.min(candidates, Math.max(k, (int) Math.ceil(beam)));
  }

  private static boolean hasVectors(LeafReader leaf) {
    FieldInfo field = leaf.getFieldInfos().fieldInfo(ProductDocuments.VECTOR_FIELD);
    return field != null && field.getVectorDimension() > 0;
  }

  /** The unmasked NRT reader, for reopening from the writer. */
  public DirectoryReader reader() {
    return reader;
  }

  /** A searcher over the masked view. */
  public IndexSearcher searcher() {
    return searcher;
  }

  /** Visible nodes (products and shared images with a vector). */
  public int liveCount() {
    return liveCount;
  }

  public int maxDoc() {
    return masked.maxDoc();
  }

  public int segmentCount() {
    return leaves.size();
  }

  /** The view-wide doc id of the visible document of {@code productId}, or -1 if none. */
  public int findLive(String productId) throws IOException {
    BytesRef term = new BytesRef(productId);
    for (LeafReaderContext leaf : leaves) {
      Terms terms = leaf.reader().terms(ProductDocuments.ID_FIELD);
      if (terms == null) {
        continue;
      }
      TermsEnum termsEnum = terms.iterator();
      if (!termsEnum.seekExact(term)) {
        continue;
      }
      Bits live = leaf.reader().getLiveDocs();
      PostingsEnum postings = termsEnum.postings(null, PostingsEnum.NONE);
      for (int doc = postings.nextDoc();
          doc != DocIdSetIterator.NO_MORE_DOCS;
          doc = postings.nextDoc()) {
        if (live == null || live.get(doc)) {
          return leaf.docBase + doc;
        }
      }
    }
    return -1;
  }

  /** Makes the visible document of {@code productId} invisible; true if there was one. */
  public boolean hide(String productId) throws IOException {
    int doc = findLive(productId);
    if (doc < 0) {
      return false;
    }
    LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
    ((MaskableLeafReader) leaf.reader()).hide(doc - leaf.docBase);
    liveCount--;
    return true;
  }

  /** The product ids of view-wide doc ids {@code docs}, in the same order. */
  public String[] productIdsOf(int[] docs) throws IOException {
    String[] ids = new String[docs.length];
    Integer[] byDoc = new Integer[docs.length];
    for (int i = 0; i < docs.length; i++) {
      byDoc[i] = i;
    }
    // Doc values iterate forwards only: visit the docs in order, one iterator per segment.
    Arrays.sort(byDoc, (a, b) -> Integer.compare(docs[a], docs[b]));
    int leafIndex = -1;
    LeafReaderContext leaf = null;
    SortedDocValues values = null;
    for (int i : byDoc) {
      int doc = docs[i];
      int docLeaf = ReaderUtil.subIndex(doc, leaves);
      SegmentGraph graph = graphs[docLeaf];
      if (graph != null) {
        ids[i] = graph.idOf(doc - leaves.get(docLeaf).docBase); // read once per document
        continue;
      }
      if (docLeaf != leafIndex) {
        leafIndex = docLeaf;
        leaf = leaves.get(docLeaf);
        values = DocValues.getSorted(leaf.reader(), ProductDocuments.ID_FIELD);
      }
      if (!values.advanceExact(doc - leaf.docBase)) {
        throw new IllegalStateException(
            "document " + doc + " has no " + ProductDocuments.ID_FIELD + "; the index is corrupt");
      }
      ids[i] = values.lookupOrd(values.ordValue()).utf8ToString();
    }
    return ids;
  }

  @Override
  public void close() throws IOException {
    masked.close(); // closes reader
  }

  private static final class MaskedDirectoryReader extends FilterDirectoryReader {
    MaskedDirectoryReader(DirectoryReader in) throws IOException {
      super(
          in,
          new SubReaderWrapper() {
            @Override
            public LeafReader wrap(LeafReader reader) {
              return new MaskableLeafReader(reader);
            }
          });
    }

    @Override
    protected DirectoryReader doWrapDirectoryReader(DirectoryReader in) throws IOException {
      return new MaskedDirectoryReader(in);
    }

    @Override
    public CacheHelper getReaderCacheHelper() {
      return null; // live docs change in place
    }
  }

  private static final class MaskableLeafReader extends FilterLeafReader {
    private FixedBitSet maskedLiveDocs; // null until the first hide in this segment
    private int numDocs;

    MaskableLeafReader(LeafReader in) {
      super(in);
      this.numDocs = in.numDocs();
    }

    void hide(int doc) {
      if (maskedLiveDocs == null) {
        FixedBitSet copy = new FixedBitSet(in.maxDoc());
        copy.set(0, in.maxDoc());
        Bits original = in.getLiveDocs();
        if (original != null) {
          original.applyMask(copy, 0);
        }
        maskedLiveDocs = copy;
      }
      if (maskedLiveDocs.getAndClear(doc)) {
        numDocs--;
      }
    }

    @Override
    public Bits getLiveDocs() {
      return maskedLiveDocs != null ? maskedLiveDocs : in.getLiveDocs();
    }

    @Override
    public int numDocs() {
      return numDocs;
    }

    @Override
    public CacheHelper getCoreCacheHelper() {
      return in.getCoreCacheHelper(); // postings, vectors and doc values are unchanged
    }

    @Override
    public CacheHelper getReaderCacheHelper() {
      return null; // live docs change in place
    }
  }
}
