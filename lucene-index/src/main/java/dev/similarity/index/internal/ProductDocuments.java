package dev.similarity.index.internal;

import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.util.BytesRef;

/**
 * The schema of a shard index: one Lucene document per live product.
 *
 * <ul>
 *   <li>{@value #ID_FIELD}: indexed as one term (update and delete by term), stored, and as sorted
 *       doc values (the fast way to turn a search hit back into an id).
 *   <li>{@value #CATEGORY_FIELD}: indexed as one term and stored, only when the product has one.
 *   <li>{@value #IMAGE_URL_FIELD}: stored only, when known, so snapshot readers can show the image.
 *   <li>{@value #VECTOR_FIELD}: the unit-length embedding, HNSW-indexed with dot-product similarity.
 * </ul>
 *
 * Field names are part of the on-disk format that later readers of a commit rely on.
 */
public final class ProductDocuments {

  public static final String ID_FIELD = "product_id";
  public static final String CATEGORY_FIELD = "category";
  public static final String IMAGE_URL_FIELD = "image_url";
  public static final String VECTOR_FIELD = "vector";

  /** Unit vectors: dot product is the cosine, and the cheapest similarity Lucene has. */
  public static final VectorSimilarityFunction SIMILARITY = VectorSimilarityFunction.DOT_PRODUCT;

  private ProductDocuments() {}

  public static Term idTerm(String productId) {
    return new Term(ID_FIELD, productId);
  }

  public static Term categoryTerm(String category) {
    return new Term(CATEGORY_FIELD, category);
  }

  public static Document document(
      String productId, float[] vector, String category, String imageUrl) {
    Document doc = new Document();
    doc.add(new StringField(ID_FIELD, productId, Field.Store.YES));
    doc.add(new SortedDocValuesField(ID_FIELD, new BytesRef(productId)));
    if (category != null) {
      doc.add(new StringField(CATEGORY_FIELD, category, Field.Store.YES));
    }
    if (imageUrl != null) {
      doc.add(new StoredField(IMAGE_URL_FIELD, imageUrl));
    }
    doc.add(new KnnFloatVectorField(VECTOR_FIELD, vector, SIMILARITY));
    return doc;
  }

  /**
   * Lucene scores {@code DOT_PRODUCT} as {@code max(0, (1 + dot) / 2)}; this undoes it. For unit
   * vectors dot is in [-1, 1], so the clamp never applies and the inverse is exact up to rounding.
   */
  public static float cosineFromLuceneScore(float luceneScore) {
    return 2f * luceneScore - 1f;
  }
}
