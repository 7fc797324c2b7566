package dev.similarity.index;

import java.util.Objects;

/**
 * One search result: a product and its cosine similarity to the query vector.
 *
 * <p>Results are returned best first: {@code score} descending, ties broken by {@code productId}.
 *
 * @param productId the product's id as given to {@link ShardIndex#upsert}
 * @param score cosine similarity in [-1, 1] (1 = same direction)
 */
public record ScoredProduct(String productId, float score) {
  public ScoredProduct {
    Objects.requireNonNull(productId, "productId");
  }
}
