package dev.similarity.search.internal;

/** The service's endpoints, as metrics label them. */
public enum Endpoint {
  SIMILAR("similar"),
  SIMILAR_IMAGE("similar_image"),
  SIMILAR_VECTOR("similar_vector"),
  PRODUCTS("products"),
  HEALTH("health"),
  METRICS("metrics"),
  PAGE("page"),
  OTHER("other");

  private final String label;

  Endpoint(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }
}
