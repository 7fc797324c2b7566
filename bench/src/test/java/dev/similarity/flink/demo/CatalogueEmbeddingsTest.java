package dev.similarity.flink.demo;

import dev.similarity.embedding.EmbeddingModelDescriptor;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.schemas.EmbeddingVectors;
import dev.similarity.schemas.ImageEmbedding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The vectors {@code --embedded-events} sends are the committed model's own embeddings of the catalogue's pictures. */
class CatalogueEmbeddingsTest {

    private static final int PRODUCTS = 600; // more than one batch of 512

    @TempDir
    Path cache;

    @Test
    void vectorsAreTheModelsEmbeddingsOfTheProductsPicturesAndAreCachedByModelAndCount() throws Exception {
        DemoCatalogue catalogue = new DemoCatalogue();
        Path modelDir = EmbeddingModelDescriptor.findCommitted(Path.of("")).orElseThrow();
        float[][] expected = new float[PRODUCTS][];
        String modelId;
        try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(modelDir).build())) {
            modelId = embedder.modelId();
            List<byte[]> pngs = new ArrayList<>();
            for (int n = 0; n < PRODUCTS; n++) pngs.add(catalogue.png(n));
            for (int n = 0; n < PRODUCTS; n++) expected[n] = embedder.embedBatch(pngs.subList(n, n + 1)).getFirst().vector();
        }

        try (CatalogueEmbeddings computed = CatalogueEmbeddings.load(catalogue, modelDir, PRODUCTS, cache, false)) {
            assertThat(computed.report()).containsEntry("embeddings_cached", false).containsKey("embeddings_products_per_s");
            assertThat(computed.modelId()).isEqualTo(modelId);
            assertThat(computed.file().getFileName().toString()).contains(modelId).endsWith("-" + PRODUCTS + ".npy");
            for (int n : new int[] {0, 1, 511, 512, PRODUCTS - 1}) {
                assertThat(computed.vector(n)).as("product %d", n).containsExactly(expected[n], within(1e-5f));
            }
            ImageEmbedding event = computed.event(7);
            assertThat(event.getModelId()).isEqualTo(modelId);
            assertThat(EmbeddingVectors.fromBytes(event.getVector())).containsExactly(expected[7], within(1e-5f));
            assertThat(computed.event(DemoCatalogue.PLACEHOLDER).getVector().remaining()).isEqualTo(128 * 4);
            assertThatThrownBy(() -> computed.event(PRODUCTS)).hasMessageContaining("beyond the " + PRODUCTS);
        }
        try (var files = Files.list(cache)) {
            assertThat(files.map(p -> p.getFileName().toString())).as("no hidden part left").noneMatch(n -> n.startsWith("."));
        }

        try (CatalogueEmbeddings cached = CatalogueEmbeddings.load(catalogue, modelDir, PRODUCTS, cache, false)) {
            assertThat(cached.report()).containsEntry("embeddings_cached", true);
            assertThat(cached.vector(599)).containsExactly(expected[599], within(1e-5f));
        }
    }
}
