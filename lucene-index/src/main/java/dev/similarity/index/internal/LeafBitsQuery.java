package dev.similarity.index.internal;

import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.search.ConstantScoreScorer;
import org.apache.lucene.search.ConstantScoreWeight;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.QueryVisitor;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.ScorerSupplier;
import org.apache.lucene.search.Weight;
import org.apache.lucene.util.BitSetIterator;
import org.apache.lucene.util.FixedBitSet;

/**
 * Matches a fixed set of documents of one point-in-time reader, given per segment (by leaf ord).
 * For filters computed once when a reader is opened, e.g. "image nodes that have a member of this
 * category", which no indexed term describes. Valid only for the reader it was built for.
 */
public final class LeafBitsQuery extends Query {

  private final String description;
  private final FixedBitSet[] bitsByLeaf;

  /** @param bitsByLeaf per leaf ord, the matching docs (segment-local ids); null for none */
  public LeafBitsQuery(String description, FixedBitSet[] bitsByLeaf) {
    this.description = description;
    this.bitsByLeaf = bitsByLeaf;
  }

  @Override
  public Weight createWeight(IndexSearcher searcher, ScoreMode scoreMode, float boost) {
    return new ConstantScoreWeight(this, boost) {
      @Override
      public ScorerSupplier scorerSupplier(LeafReaderContext context) {
        FixedBitSet bits = context.ord < bitsByLeaf.length ? bitsByLeaf[context.ord] : null;
        if (bits == null) {
          return null;
        }
        return new DefaultScorerSupplier(
            new ConstantScoreScorer(
                score(), scoreMode, new BitSetIterator(bits, bits.approximateCardinality())));
      }

      @Override
      public boolean isCacheable(LeafReaderContext context) {
        return false;
      }
    };
  }

  @Override
  public String toString(String field) {
    return "LeafBitsQuery(" + description + ")";
  }

  @Override
  public void visit(QueryVisitor visitor) {
    visitor.visitLeaf(this);
  }

  @Override
  public boolean equals(Object other) {
    return sameClassAs(other) && bitsByLeaf == ((LeafBitsQuery) other).bitsByLeaf;
  }

  @Override
  public int hashCode() {
    return classHash() ^ System.identityHashCode(bitsByLeaf);
  }
}
