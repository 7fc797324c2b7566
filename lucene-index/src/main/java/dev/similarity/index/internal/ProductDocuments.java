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
 * The schema of a shard index. Four kinds of document:
 *
 * <ul>
 *   <li><b>product node</b>: a product with its own vector (the HNSW graph node is the product).
 *   <li><b>image node</b> ({@value #KIND_FIELD} = {@value #IMAGE_KIND}): one distinct image's vector,
 *       standing for every product that shows that image; its id is the image key. Many products
 *       sharing one picture (placeholders, one photo for every size) thus make one graph node, not
 *       thousands of identical ones that crowd the graph.
 *   <li><b>member</b> ({@value #KIND_FIELD} = {@value #MEMBER_KIND}): a product showing an
 *       image: its id, the image key, its join sequence (the lowest is the image's representative),
 *       category and URL. No vector: never a search hit, read by snapshot readers.
 * </ul>
 *
 * Fields of nodes:
 *
 * <ul>
 *   <li>{@value #ID_FIELD}: indexed as one term (update and delete by term), stored, and as sorted
 *       doc values (the fast way to turn a search hit back into an id).
 *   <li>{@value #CATEGORY_FIELD}: indexed as one term and stored, only when the product has one.
 *   <li>{@value #IMAGE_URL_FIELD}: stored only, when known, so snapshot readers can show the image.
 *   <li>{@value #VECTOR_FIELD}: the unit-length embedding, HNSW-indexed with dot-product similarity.
 * </ul>
 *
 * Members store {@value #MEMBER_ID_FIELD}, {@value #MEMBER_KEY_FIELD} (image and product, indexed:
 * update and delete by term), {@value #MEMBER_IMAGE_FIELD},
 * {@value #MEMBER_SEQUENCE_FIELD}, and the category and URL fields above. Field names are part of
 * the on-disk format that later readers of a commit rely on.
 */
public final class ProductDocuments {

  public static final String ID_FIELD = "product_id";
  public static final String CATEGORY_FIELD = "category";
  public static final String IMAGE_URL_FIELD = "image_url";
  public static final String VECTOR_FIELD = "vector";
  public static final String KIND_FIELD = "kind";
  public static final String IMAGE_KIND = "image";
  public static final String MEMBER_KIND = "member";
  public static final String MEMBER_ID_FIELD = "member_id";
  public static final String MEMBER_IMAGE_FIELD = "member_image";
  public static final String MEMBER_SEQUENCE_FIELD = "member_sequence";
  public static final String PRODUCT_KIND = "product";
  public static final String PRODUCT_ID_FIELD = "product";
  public static final String PRODUCT_IMAGE_FIELD = "product_image";
  public static final String PRODUCT_VECTOR_FIELD = "product_vector";
  /** Image key and product id: a product moving between images may be a member of both for a while. */
  public static final String MEMBER_KEY_FIELD = "member_key";

  /** Unit vectors: dot product is the cosine, and the cheapest similarity Lucene has. */
  public static final VectorSimilarityFunction SIMILARITY = VectorSimilarityFunction.DOT_PRODUCT;

  private ProductDocuments() {}

  public static Term idTerm(String productId) {
    return new Term(ID_FIELD, productId);
  }

  /** The term of the member document of {@code productId} in image {@code imageKey}. */
  public static Term memberTerm(String productId, String imageKey) {
    return new Term(MEMBER_KEY_FIELD, imageKey + '/' + productId);
  }

  public static Term productTerm(String productId) {
    return new Term(PRODUCT_ID_FIELD, productId);
  }

  public static Term kindTerm(String kind) {
    return new Term(KIND_FIELD, kind);
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

  /** The node of a shared image: its key as the id, its vector, no category or URL of its own. */
  public static Document imageDocument(String imageKey, float[] vector) {
    Document doc = document(imageKey, vector, null, null);
    doc.add(new StringField(KIND_FIELD, IMAGE_KIND, Field.Store.YES));
    return doc;
  }

  /** A product showing image {@code imageKey}; {@code sequence} orders the image's members. */
  public static Document memberDocument(
      String productId, String imageKey, long sequence, String category, String imageUrl) {
    Document doc = new Document();
    doc.add(new StringField(KIND_FIELD, MEMBER_KIND, Field.Store.YES));
    doc.add(new StringField(MEMBER_ID_FIELD, productId, Field.Store.YES));
    doc.add(new StringField(MEMBER_KEY_FIELD, memberTerm(productId, imageKey).text(), Field.Store.NO));
    doc.add(new StoredField(MEMBER_IMAGE_FIELD, imageKey));
    doc.add(new StoredField(MEMBER_SEQUENCE_FIELD, sequence));
    if (category != null) {
      doc.add(new StringField(CATEGORY_FIELD, category, Field.Store.YES));
    }
    if (imageUrl != null) {
      doc.add(new StoredField(IMAGE_URL_FIELD, imageUrl));
    }
    return doc;
  }

  /** A product whose vector is image {@code imageKey}'s node's, with a stored copy of the vector. */
  public static Document productDocument(
      String productId, String imageKey, float[] vector, String category, String imageUrl) {
    Document doc = new Document();
    doc.add(new StringField(KIND_FIELD, PRODUCT_KIND, Field.Store.YES));
    doc.add(new StringField(PRODUCT_ID_FIELD, productId, Field.Store.YES));
    doc.add(new StoredField(PRODUCT_IMAGE_FIELD, imageKey));
    java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(4 * vector.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(vector);
    doc.add(new StoredField(PRODUCT_VECTOR_FIELD, new BytesRef(bytes.array())));
    if (category != null) {
      doc.add(new StringField(CATEGORY_FIELD, category, Field.Store.YES));
    }
    if (imageUrl != null) {
      doc.add(new StoredField(IMAGE_URL_FIELD, imageUrl));
    }
    return doc;
  }

  /** The vector stored by {@link #productDocument}. */
  public static float[] storedVector(BytesRef stored) {
    float[] vector = new float[stored.length / 4];
    java.nio.ByteBuffer.wrap(stored.bytes, stored.offset, stored.length)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(vector);
    return vector;
  }

  /**
   * Lucene scores {@code DOT_PRODUCT} as {@code max(0, (1 + dot) / 2)}; this undoes it. For unit
   * vectors dot is in [-1, 1], so the clamp never applies and the inverse is exact up to rounding.
   */
  public static float cosineFromLuceneScore(float luceneScore) {
    return 2f * luceneScore - 1f;
  }
}
