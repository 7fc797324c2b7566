package dev.similarity.schemas;

import java.util.List;

/** A decoded catalogue event that breaks the rules in {@link CatalogueEventValidator}. */
public final class InvalidCatalogueEventException extends Exception {

  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  public InvalidCatalogueEventException(String message, List<String> problems) {
    super(message);
    this.problems = List.copyOf(problems);
  }

  /** One sentence per broken rule. */
  public List<String> problems() {
    return problems;
  }
}
