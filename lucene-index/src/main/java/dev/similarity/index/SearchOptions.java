package dev.similarity.index;

import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What a {@link ShardIndex#search} should leave out or keep to. Immutable: every {@code with}-style
 * method returns a new instance, so {@link #NONE} can be shared.
 *
 * <pre>{@code
 * SearchOptions.NONE.exclude(productId).category("shoes")
 * }</pre>
 */
public final class SearchOptions {

  /** No exclusions, no category filter, the index's own candidate count. */
  public static final SearchOptions NONE = new SearchOptions(Set.of(), null, 0);

  private final Set<String> excludedIds;
  private final String category;
  private final int candidates;

  private SearchOptions(Set<String> excludedIds, String category, int candidates) {
    this.excludedIds = excludedIds;
    this.category = category;
    this.candidates = candidates;
  }

  /** These options plus one more product id that must not appear in the results. */
  public SearchOptions exclude(String productId) {
    Objects.requireNonNull(productId, "productId to exclude");
    return exclude(Set.of(productId));
  }

  /**
   * These options plus more product ids that must not appear in the results. Each excluded id that
   * is in the index widens the HNSW search by one, so keep the set small (a handful of ids).
   */
  public SearchOptions exclude(Set<String> productIds) {
    Objects.requireNonNull(productIds, "productIds to exclude");
    Set<String> union = new HashSet<>(excludedIds);
    for (String id : productIds) {
      union.add(Objects.requireNonNull(id, "an excluded product id is null"));
    }
    return new SearchOptions(Set.copyOf(union), category, candidates);
  }

  /** These options, restricted to products upserted with exactly this category. */
  public SearchOptions category(String category) {
    Objects.requireNonNull(category, "category (use SearchOptions without category() for no filter)");
    return new SearchOptions(excludedIds, category, candidates);
  }

  /**
   * These options with a per-query HNSW candidate count (the search beam, at least k), overriding
   * the index's {@code searchCandidates}. Higher gives better recall and slower queries.
   */
  public SearchOptions candidates(int candidates) {
    if (candidates < 1) {
      throw new IllegalArgumentException(
          "candidates is " + candidates + "; it must be at least 1 (the HNSW search beam per query)");
    }
    return new SearchOptions(excludedIds, category, candidates);
  }

  /** Ids that must not appear in the results; empty for none. */
  public Set<String> excludedIds() {
    return excludedIds;
  }

  /** The category every result must have, if any. */
  public Optional<String> category() {
    return Optional.ofNullable(category);
  }

  /** The per-query candidate count, or 0 to use the index's {@code searchCandidates}. */
  public int candidates() {
    return candidates;
  }

  @Override
  public String toString() {
    return "SearchOptions{excludedIds="
        + excludedIds
        + ", category="
        + category
        + ", candidates="
        + (candidates == 0 ? "index default" : candidates)
        + "}";
  }
}
