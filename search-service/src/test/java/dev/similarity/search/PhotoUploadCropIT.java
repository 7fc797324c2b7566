package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.embedding.data.PhotoQueries;
import dev.similarity.index.snapshot.SnapshotStore;
import dev.similarity.search.Http.Answer;
import dev.similarity.search.testing.EmbeddedCatalogue;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Similar to this photo" through the real endpoint: a catalogue of Fashion-MNIST images embedded
 * with the committed model and published as real shard snapshots, searched with shoppers' photos
 * of its items rendered by {@link PhotoQueries} (the photo-to-catalogue evaluation's generator).
 */
class PhotoUploadCropIT {

  private static final int PRODUCTS = 500;
  private static final int PHOTOS = 40;
  private static final long SEED = 2026;

  @TempDir static Path folder;
  private static FashionMnist images;
  private static SearchService service;
  private static Http http;
  private static List<PhotoQueries.Photo> photos;

  @BeforeAll
  static void publishCatalogueAndRenderPhotos() {
    images = FashionMnist.load(FashionMnist.Split.TEST);
    Path modelDir = EmbeddingModelDescriptor.findCommitted(Path.of("")).orElseThrow(
        () -> new IllegalStateException("the committed model under models/ is missing"));
    SnapshotStore store = SnapshotStore.at(folder.resolve("store").toString());
    EmbeddedCatalogue.publish(store, modelDir, images, PRODUCTS, 2, i -> null);
    PhotoQueries generator = new PhotoQueries(images, PRODUCTS, SEED);
    int[] items = generator.queryItems(PHOTOS);
    photos = new ArrayList<>();
    for (int q = 0; q < PHOTOS; q++) {
      photos.add(generator.render(q, items[q]));
    }
    // No --crop: the service's default applies.
    service = SearchService.builder().store(store).modelDir(modelDir).port(0).build().start();
    http = new Http(service.baseUri());
  }

  @AfterAll
  static void stop() {
    if (service != null) {
      service.close();
    }
  }

  /**
   * Exact-item recall@10, same-category precision@10 and the mean time in the service (ms) of the
   * photos searched with {@code query}.
   */
  private static double[] measure(String query) {
    int found = 0;
    int sameCategory = 0;
    double tookMs = 0;
    for (PhotoQueries.Photo photo : photos) {
      Answer answer = http.post("api/similar/image?k=10" + query, photo.jpeg(), "image/jpeg");
      assertThat(answer.status()).as(answer.body()).isEqualTo(200);
      tookMs += answer.json().get("tookMs").asDouble();
      String category = FashionMnist.categoryName(photo.label());
      for (JsonNode n : answer.json().get("neighbours")) {
        found += n.get("productId").asText().equals("fm" + photo.item()) ? 1 : 0;
        sameCategory += n.get("category").asText().equals(category) ? 1 : 0;
      }
    }
    return new double[] {(double) found / photos.size(), sameCategory / (10.0 * photos.size()), tookMs / photos.size()};
  }

  @Test
  void theDefaultCropFindsShoppersPhotosBetterThanTheWholePhoto() {
    double[] whole = measure("&crop=off");
    double[] byDefault = measure("");
    System.out.printf("photo upload over %d products, %d photos: recall@10 %.3f -> %.3f, precision@10 %.3f -> %.3f,"
        + " mean time in the service %.1f -> %.1f ms (crop off -> service default)%n", PRODUCTS, PHOTOS, whole[0],
        byDefault[0], whole[1], byDefault[1], whole[2], byDefault[2]);

    assertThat(byDefault[0]).as("exact-item recall@10").isGreaterThanOrEqualTo(whole[0]);
    // The evaluation measured 0.115 -> 0.511 over 10,000 items; a skipped crop leaves them equal.
    assertThat(byDefault[1]).as("same-category precision@10").isGreaterThanOrEqualTo(whole[1] + 0.15);
  }

  @Test
  void theAnswerSaysWhichCropWasAppliedAndWhere() {
    PhotoQueries.Photo photo = photos.get(0);
    JsonNode byDefault = http.post("api/similar/image", photo.jpeg(), "image/jpeg").json().at("/query/crop");
    JsonNode box = http.post("api/similar/image?crop=box", photo.jpeg(), "image/jpeg").json().at("/query/crop");
    JsonNode off = http.post("api/similar/image?crop=off", photo.jpeg(), "image/jpeg").json().at("/query/crop");

    assertThat(byDefault.get("requested").asText()).isEqualTo("cutout");
    assertThat(byDefault.get("applied").asText()).isEqualTo("cutout");
    assertThat(byDefault.get("outcome").asText()).isEqualTo("cropped");
    JsonNode found = byDefault.get("box");
    assertThat(found.get("x1").asInt() - found.get("x0").asInt()).isBetween(10, photo.width() - 1);
    // The box found overlaps the product's own box.
    assertThat(found.get("x0").asInt()).isLessThan(photo.productBox().x1());
    assertThat(found.get("x1").asInt()).isGreaterThan(photo.productBox().x0());
    assertThat(box.get("applied").asText()).isEqualTo("box");
    assertThat(box.get("box")).isEqualTo(found);
    assertThat(off.get("applied").asText()).isEqualTo("off");
    assertThat(off.get("outcome").asText()).isEqualTo("off");
    assertThat(off.has("box")).isFalse();
  }

  @Test
  void aCleanCatalogueImageIsLeftWholeAndStillFindsItselfFirst() throws Exception {
    int item = 17;
    byte[] stored = images.png(item);
    byte[] larger = png(scaled(ImageIO.read(new ByteArrayInputStream(stored)), 8));   // 224 x 224
    for (byte[] image : List.of(stored, larger)) {
      Answer cut = http.post("api/similar/image?k=5&crop=cutout", image, "image/png");
      Answer whole = http.post("api/similar/image?k=5&crop=off", image, "image/png");

      assertThat(cut.status()).as(cut.body()).isEqualTo(200);
      assertThat(cut.json().at("/query/crop/applied").asText()).isEqualTo("off");
      assertThat(cut.json().at("/query/crop/outcome").asText()).isEqualTo("clean_background");
      assertThat(cut.json().at("/neighbours/0/productId").asText()).isEqualTo("fm" + item);
      // Left whole is exactly the upload without a crop: the same neighbours, the same scores.
      assertThat(cut.json().get("neighbours")).isEqualTo(whole.json().get("neighbours"));
    }
    assertThat(http.post("api/similar/image?k=1", stored, "image/png").json().at("/neighbours/0/score").floatValue())
        .isGreaterThan(0.999f);
  }

  @Test
  void anUnknownCropIs400NamingTheChoices() {
    Answer answer = http.post("api/similar/image?crop=yes", photos.get(0).jpeg(), "image/jpeg");

    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.json().get("error").asText()).contains("crop is 'yes'; it must be off, box or cutout");
  }

  private static BufferedImage scaled(BufferedImage image, int factor) {
    BufferedImage out = new BufferedImage(image.getWidth() * factor, image.getHeight() * factor,
        BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(image, 0, 0, out.getWidth(), out.getHeight(), null);
    g.dispose();
    return out;
  }

  private static byte[] png(BufferedImage image) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(image, "png", out);
    return out.toByteArray();
  }
}
