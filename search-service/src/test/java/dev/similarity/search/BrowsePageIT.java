package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.embedding.data.FashionMnist;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The browse page, rendered by headless Chromium against a running service. */
class BrowsePageIT {

  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

  @TempDir Path folder;

  @Test
  void pageOpenedForAProductShowsItsNeighboursImagesWithScores() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM),
        "headless Chromium is not installed at " + CHROMIUM + ": apt-get install chromium");
    FashionMnist images = FashionMnist.load(FashionMnist.Split.TEST);
    // Images travel inside the snapshot as data: URLs, so the page needs no image server.
    try (TestCatalogue catalogue = new TestCatalogue(folder.resolve("store"), 2, 16).addProducts(200,
            i -> "data:image/png;base64," + Base64.getEncoder().encodeToString(images.png(i)));
        SearchService service = publishAndServe(catalogue)) {
      String dom = dumpDom(service.baseUri() + "?product=p7&k=10");

      List<String> neighbours = elements(dom, "<figure class=\"neighbour\"[^>]*>(.*?)</figure>");
      assertThat(neighbours).as(dom).hasSize(10);
      List<String> expected = new ArrayList<>();
      new Http(service.baseUri()).get("api/similar?product=p7&k=10").json().get("neighbours")
          .forEach(n -> expected.add(n.get("productId").asText()));
      assertThat(elements(dom, "<figure class=\"neighbour\" data-product-id=\"([^\"]+)\""))
          .containsExactlyElementsOf(expected);
      for (String figure : neighbours) {
        // The image is the product's own, loaded by the browser, with rank and score shown.
        assertThat(figure).containsPattern("<img alt=\"p\\d+\"").contains("src=\"data:image/png;base64,")
            .contains("data-loaded=\"true\"");
        assertThat(figure).containsPattern("#\\d+ · score 0\\.\\d{3}");
        assertThat(figure).containsPattern("c[0-4]");
      }
      assertThat(dom).containsPattern("<figure class=\"query\">.*?<div>p7</div>");
      assertThat(elements(dom, "<figure class=\"product\"[^>]*>(.*?)</figure>")).hasSize(24);
      assertThat(dom).contains("2 shards · 200 products");
      assertThat(dom).containsPattern("<div id=\"error\" role=\"alert\"></div>");
    }
  }

  @Test
  void unknownProductShowsTheServiceError() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(CHROMIUM),
        "headless Chromium is not installed at " + CHROMIUM + ": apt-get install chromium");
    try (TestCatalogue catalogue = new TestCatalogue(folder.resolve("store"), 1, 8).addProducts(30, i -> null);
        SearchService service = publishAndServe(catalogue)) {
      String dom = dumpDom(service.baseUri() + "?product=missing-42");

      assertThat(dom).containsPattern("<div id=\"error\" role=\"alert\">product 'missing-42' is not in the index");
      assertThat(elements(dom, "<figure class=\"neighbour\"[^>]*>(.*?)</figure>")).isEmpty();
    }
  }

  private static SearchService publishAndServe(TestCatalogue catalogue) {
    catalogue.publisher.publish();
    return SearchService.builder().store(catalogue.store).port(0).build().start();
  }

  private String dumpDom(String url) throws IOException, InterruptedException {
    Path profile = Files.createDirectories(folder.resolve("chromium-profile"));
    Process chromium = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--user-data-dir=" + profile, "--virtual-time-budget=8000", "--dump-dom", url)
        .redirectError(folder.resolve("chromium.log").toFile())
        .start();
    byte[] out = chromium.getInputStream().readAllBytes();
    if (!chromium.waitFor(60, TimeUnit.SECONDS)) {
      chromium.destroyForcibly();
      throw new AssertionError("chromium did not finish within 60 s");
    }
    assertThat(chromium.exitValue()).as(Files.readString(folder.resolve("chromium.log"))).isZero();
    return new String(out, StandardCharsets.UTF_8);
  }

  private static List<String> elements(String dom, String regex) {
    List<String> found = new ArrayList<>();
    Matcher m = Pattern.compile(regex, Pattern.DOTALL).matcher(dom);
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }
}
