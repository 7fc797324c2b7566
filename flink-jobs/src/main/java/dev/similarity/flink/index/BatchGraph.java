package dev.similarity.flink.index;

import org.apache.lucene.codecs.hnsw.DefaultFlatVectorScorer;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.util.VectorUtil;
import org.apache.lucene.util.hnsw.HnswGraphBuilder;
import org.apache.lucene.util.hnsw.HnswGraphSearcher;
import org.apache.lucene.util.hnsw.OnHeapHnswGraph;
import org.apache.lucene.util.hnsw.RandomVectorScorer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * An on-heap HNSW graph over a fixed list of unit vectors, searched by dot product: the images of one
 * batch that a shard does not own, which live in no shard index here, so that each of the shard's own
 * new nodes can find the ones that enter its list (a search from the node's side, where nearest
 * neighbours are what a list is made of).
 */
final class BatchGraph {

    private final List<float[]> vectors;
    private final FloatVectorValues values;
    private final OnHeapHnswGraph graph;
    private final int beamWidth;

    /** One hit: the vector's position in the list the graph was built over and its dot product with the query. */
    record Hit(int ord, float score) {
    }

    /**
     * Builds the graph (Lucene's {@link HnswGraphBuilder}, the shards' parameters).
     *
     * @param vectors   unit vectors of one dimension, at least one; not copied, not to be changed afterwards
     * @param maxConn   HNSW maximum connections per node
     * @param beamWidth HNSW construction beam width; searches look at least as wide
     */
    BatchGraph(List<float[]> vectors, int maxConn, int beamWidth) {
        if (vectors.isEmpty()) throw new IllegalArgumentException("a batch graph needs at least one vector");
        this.vectors = vectors;
        this.values = FloatVectorValues.fromFloats(vectors, vectors.get(0).length);
        this.beamWidth = beamWidth;
        try {
            this.graph = HnswGraphBuilder.create(DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorerSupplier(
                    VectorSimilarityFunction.DOT_PRODUCT, values), maxConn, beamWidth, 42).build(vectors.size());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code n} vectors nearest to {@code query} as the graph finds them, best first, with exact dot products. */
    Hit[] nearest(float[] query, int n) {
        try {
            RandomVectorScorer scorer = DefaultFlatVectorScorer.INSTANCE.getRandomVectorScorer(
                    VectorSimilarityFunction.DOT_PRODUCT, values, query);
            // HNSW finds a search's last results least surely: search at least as wide as the graph was built.
            ScoreDoc[] found = HnswGraphSearcher.search(scorer, Math.max(n, beamWidth), graph, null, Integer.MAX_VALUE)
                    .topDocs().scoreDocs;
            int size = Math.min(n, found.length);
            Hit[] hits = new Hit[size];
            for (int i = 0; i < size; i++) {
                hits[i] = new Hit(found[i].doc, VectorUtil.dotProduct(query, vectors.get(found[i].doc)));
            }
            return hits;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
