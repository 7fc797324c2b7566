package dev.similarity.schemas;

import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The rules of a {@link CatalogueEvent} that its schema cannot express. Whether the image URL
 * points somewhere the job may fetch from is the fetcher's decision, not checked here.
 */
public final class CatalogueEventValidator {

  private static final Pattern CURRENCY_CODE = Pattern.compile("[A-Z]{3}");

  private CatalogueEventValidator() {}

  /** Everything wrong with the event, one sentence each; empty when it is valid. */
  public static List<String> problems(CatalogueEvent event) {
    List<String> problems = new ArrayList<>();
    if (isBlank(event.getEventId())) problems.add("eventId is blank");
    if (isBlank(event.getProductId())) problems.add("productId is blank");
    if (event.getKind() == null) problems.add("kind is missing");
    if (event.getCatalogueVersion() < 0) {
      problems.add("catalogueVersion is " + event.getCatalogueVersion() + "; versions start at 0");
    }
    if (event.getTimestamp() < 0) problems.add("timestamp is " + event.getTimestamp() + "; it must be ms since the epoch");
    CatalogueEventKind kind = event.getKind();
    if (kind == CatalogueEventKind.UPSERTED || kind == CatalogueEventKind.IMAGE_CHANGED) {
      String imageProblem = imageUrlProblem(event.getImageUrl());
      if (imageProblem != null) problems.add(imageProblem + "; " + kind + " events must carry the product image's absolute http(s) or file URL");
    }
    Price price = event.getPrice();
    if (price != null) {
      BigDecimal amount = price.getAmount();
      if (amount == null) problems.add("price.amount is missing");
      else if (amount.signum() < 0) problems.add("price.amount is negative (" + amount.toPlainString() + ")");
      if (price.getCurrency() == null || !CURRENCY_CODE.matcher(price.getCurrency()).matches()) {
        problems.add("price.currency is '" + price.getCurrency() + "'; use an upper-case ISO 4217 code such as EUR");
      }
    }
    return problems;
  }

  /** @throws InvalidCatalogueEventException listing every problem, naming the event and product */
  public static void requireValid(CatalogueEvent event) throws InvalidCatalogueEventException {
    List<String> problems = problems(event);
    if (!problems.isEmpty()) {
      throw new InvalidCatalogueEventException("catalogue event " + event.getEventId() + " for product "
          + event.getProductId() + " (" + event.getKind() + ", catalogueVersion " + event.getCatalogueVersion()
          + ") is invalid: " + String.join("; ", problems), problems);
    }
  }

  private static String imageUrlProblem(String imageUrl) {
    if (isBlank(imageUrl)) return "imageUrl is missing";
    URI uri;
    try {
      uri = new URI(imageUrl);
    } catch (URISyntaxException e) {
      return "imageUrl '" + imageUrl + "' is not a URL (" + e.getReason() + " at index " + e.getIndex() + ")";
    }
    String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
    if ("file".equals(scheme)) {
      // Whether the job may read it (fetch.file-root) is the fetcher's decision, not the schema's.
      return isBlank(uri.getPath()) ? "imageUrl '" + imageUrl + "' has no path" : null;
    }
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      return "imageUrl '" + imageUrl + "' has scheme " + uri.getScheme() + ", not http, https or file";
    }
    if (isBlank(uri.getHost())) return "imageUrl '" + imageUrl + "' has no host";
    return null;
  }

  private static boolean isBlank(String value) {
    return value == null || value.isBlank();
  }
}
