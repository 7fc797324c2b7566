package dev.similarity.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class CatalogueEventValidatorTest {

  @Test
  void acceptsCompleteUpsert() throws Exception {
    CatalogueEventValidator.requireValid(SampleRecords.upsert("p-1").build());
    assertEquals(0, CatalogueEventValidator.problems(SampleRecords.upsert("p-1").build()).size());
  }

  @Test
  void refusesUpsertWithoutImageUrlNamingTheProduct() {
    CatalogueEvent event = SampleRecords.upsert("p-8812").setImageUrl(null).build();
    InvalidCatalogueEventException e =
        assertThrows(InvalidCatalogueEventException.class, () -> CatalogueEventValidator.requireValid(event));
    assertTrue(e.getMessage().contains("product p-8812"), e.getMessage());
    assertTrue(e.getMessage().contains("imageUrl is missing; UPSERTED events must carry"), e.getMessage());
  }

  @Test
  void refusesImageChangeWithBlankImageUrl() {
    CatalogueEvent event = SampleRecords.upsert("p-1").setKind(CatalogueEventKind.IMAGE_CHANGED).setImageUrl("  ").build();
    assertEquals(1, CatalogueEventValidator.problems(event).size());
  }

  @Test
  void acceptsRemovalWithoutImageUrl() {
    CatalogueEvent event = SampleRecords.upsert("p-1").setKind(CatalogueEventKind.REMOVED).setImageUrl(null).build();
    assertEquals(0, CatalogueEventValidator.problems(event).size());
  }

  @Test
  void acceptsFileUrlsLeavingTheirPermissionToTheFetcher() {
    CatalogueEvent event = SampleRecords.upsert("p-1").setImageUrl("file:///srv/images/a.png").build();
    assertEquals(0, CatalogueEventValidator.problems(event).size());
  }

  @Test
  void refusesImageUrlsThatAreNotAbsoluteHttpOrFile() {
    for (String url : new String[] {"ftp://images.example.com/a.jpg", "file:", "/relative/a.jpg",
        "https://", "http://exa mple.com/a.jpg", " https://images.example.com/a.jpg"}) {
      CatalogueEvent event = SampleRecords.upsert("p-1").setImageUrl(url).build();
      assertEquals(1, CatalogueEventValidator.problems(event).size(), url);
    }
  }

  @Test
  void refusesNegativePriceAndLowerCaseCurrency() {
    CatalogueEvent event = SampleRecords.upsert("p-1")
        .setPrice(Price.newBuilder().setAmount(new BigDecimal("-1.00")).setCurrency("eur").build()).build();
    assertEquals(2, CatalogueEventValidator.problems(event).size(), CatalogueEventValidator.problems(event).toString());
  }

  @Test
  void refusesBlankProductIdAndNegativeVersionTogether() {
    CatalogueEvent event = SampleRecords.upsert("p-1").setProductId(" ").setCatalogueVersion(-1).build();
    InvalidCatalogueEventException e =
        assertThrows(InvalidCatalogueEventException.class, () -> CatalogueEventValidator.requireValid(event));
    assertEquals(2, e.problems().size(), e.problems().toString());
  }
}
