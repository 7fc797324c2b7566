package dev.similarity.flink;

import dev.similarity.embedding.EmbeddingResult;
import dev.similarity.embedding.ImageEmbedder;
import dev.similarity.embedding.ImageEmbedderConfig;
import dev.similarity.flink.demo.CatalogueChurn;
import dev.similarity.flink.demo.CatalogueFeeder;
import dev.similarity.flink.demo.NeighbourListCollector;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.EmbeddingVectors;
import dev.similarity.schemas.Neighbour;
import dev.similarity.schemas.NeighbourList;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Catalogue events that carry their own embedding, through the whole job on a mini-cluster and a real
 * broker, mixed with events whose image the job fetches and embeds: every odd product sends the
 * committed model's embedding of its image (scaled, so the job must normalise it) under a URL that
 * answers 404 (so a fetch would be a dead letter), every even one only its image's URL. Three events
 * with a bad embedding (another model, the wrong dimension, a NaN) must become dead letters.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventEmbeddingsIT {

    private static final int PRODUCTS = 400;
    private static final int K = 10;

    @TempDir
    static Path work;

    private LoopbackJob job;
    private float[][] vectors;
    private String modelId;

    @BeforeAll
    void feedEmbeddedAndImageEvents() throws Exception {
        job = LoopbackJob.start(work, "embedded", Map.of());
        vectors = new float[PRODUCTS][];
        try (ImageEmbedder embedder = ImageEmbedder.load(ImageEmbedderConfig.builder().modelDir(job.run.config().modelDir()).build())) {
            modelId = embedder.modelId();
            List<byte[]> pngs = new ArrayList<>();
            for (int n = 0; n < PRODUCTS; n++) pngs.add(job.catalogue.png(n));
            List<EmbeddingResult> results = embedder.embedBatch(pngs);
            for (int n = 0; n < PRODUCTS; n++) vectors[n] = results.get(n).vector();
        }
        try (CatalogueFeeder feeder = new CatalogueFeeder(job.broker.bootstrapServers(),
                job.run.config().get(IndexerOptions.CATALOGUE_TOPIC), AvroWireFormat.NAKED_BINARY)) {
            for (int n = 0; n < PRODUCTS; n++) {
                String id = job.catalogue.productId(n);
                if (n % 2 == 1) {
                    feeder.upsert(id, job.images.baseUrl() + "/never-fetched/" + n + ".png", job.catalogue.category(n), 1, false,
                            EmbeddingVectors.of(modelId, scaled(vectors[n], 3.5f)));
                } else {
                    feeder.upsert(id, job.images.imageUrl(n), job.catalogue.category(n), 1, false);
                }
            }
            String url = job.images.imageUrl(0);
            feeder.upsert("other-model", url, "Bag", 1, false, EmbeddingVectors.of("fashion-mnist-similarity@0", vectors[0]));
            feeder.upsert("wrong-dimension", url, "Bag", 1, false, EmbeddingVectors.of(modelId, Arrays.copyOf(vectors[0], 64)));
            float[] nan = vectors[0].clone();
            nan[5] = Float.NaN;
            feeder.upsert("not-finite", url, "Bag", 1, false, EmbeddingVectors.of(modelId, nan));
            feeder.flush();
        }
        long deadline = System.currentTimeMillis() + 300_000;
        while (System.currentTimeMillis() < deadline
                && (withList() < PRODUCTS || job.run.deadLetters().records() < 3)) {
            Thread.sleep(250);
        }
        new CatalogueChurn(job.run, job.catalogue, job.images).awaitQuiet(3_000, 60_000);
    }

    @AfterAll
    void stop() throws Exception {
        if (job != null) job.close();
    }

    @Test
    void everyProductGetsAListOfKAndEmbeddedAndFetchedProductsListEachOther() {
        Map<String, NeighbourListCollector.Seen> latest = job.run.lists().latest();
        int listsOfFetchedNamingEmbedded = 0, listsOfEmbeddedNamingFetched = 0;
        for (int n = 0; n < PRODUCTS; n++) {
            String id = job.catalogue.productId(n);
            assertThat(latest.get(id)).as("list of %s", id).isNotNull();
            List<Neighbour> neighbours = latest.get(id).list().getNeighbours();
            assertThat(neighbours).as("neighbours of %s", id).hasSize(K);
            assertThat(neighbours).extracting(Neighbour::getProductId).doesNotContain(id, "other-model", "wrong-dimension", "not-finite");
            boolean namesOdd = neighbours.stream().anyMatch(x -> job.catalogue.productNumber(x.getProductId()) % 2 == 1);
            boolean namesEven = neighbours.stream().anyMatch(x -> job.catalogue.productNumber(x.getProductId()) % 2 == 0);
            if (n % 2 == 0 && namesOdd) listsOfFetchedNamingEmbedded++;
            if (n % 2 == 1 && namesEven) listsOfEmbeddedNamingFetched++;
        }
        // One index: products of either kind are near products of the other.
        assertThat(listsOfFetchedNamingEmbedded).isGreaterThan(PRODUCTS / 4);
        assertThat(listsOfEmbeddedNamingFetched).isGreaterThan(PRODUCTS / 4);
    }

    @Test
    void listsMatchTheExactTopKOfTheModelsVectorsAndScoresAreCosines() {
        Map<String, NeighbourListCollector.Seen> latest = job.run.lists().latest();
        double overlap = 0;
        for (int n = 0; n < PRODUCTS; n++) {
            NeighbourList list = latest.get(job.catalogue.productId(n)).list();
            Set<String> exact = new HashSet<>();
            for (int i : CatalogueChurn.exactTopK(vectors, n, K)) exact.add(job.catalogue.productId(i));
            overlap += list.getNeighbours().stream().filter(x -> exact.contains(x.getProductId())).count() / (double) K;
            // A scaled vector that was not normalised would score far above 1.
            Neighbour first = list.getNeighbours().get(0);
            float expected = dot(vectors[n], vectors[job.catalogue.productNumber(first.getProductId())]);
            assertThat(first.getScore()).as("score of %s in the list of %s", first.getProductId(), n).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-3f));
        }
        assertThat(overlap / PRODUCTS).isGreaterThanOrEqualTo(0.95);
    }

    @Test
    void badEmbeddingsAreDeadLettersWithTheirReasonAndNothingWasFetchedForTheOthers() throws Exception {
        AvroRecordCodec<DeadLetter> codec = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);
        Map<String, DeadLetter> byProduct = new HashMap<>();
        for (String key : job.run.deadLetters().keysSeen()) {
            for (NeighbourListCollector.Seen seen : job.run.deadLetters().history(key)) {
                DeadLetter letter = codec.decode(seen.value());
                byProduct.put(letter.getProductId(), letter);
            }
        }
        // No IMAGE_UNREACHABLE: the embedded products' URLs answer 404, and none was fetched.
        assertThat(byProduct).containsOnlyKeys("other-model", "wrong-dimension", "not-finite");
        assertThat(byProduct.get("other-model").getReason().name()).isEqualTo("EMBEDDING_MODEL_MISMATCH");
        assertThat(byProduct.get("other-model").getStage()).isEqualTo("validate");
        assertThat(byProduct.get("other-model").getErrorMessage()).contains("'fashion-mnist-similarity@0'", "'" + modelId + "'");
        assertThat(byProduct.get("wrong-dimension").getReason().name()).isEqualTo("INVALID_EMBEDDING");
        assertThat(byProduct.get("wrong-dimension").getErrorMessage()).contains("product wrong-dimension", "256 bytes (64 float32 values)",
                "128 dimensions");
        assertThat(byProduct.get("not-finite").getReason().name()).isEqualTo("INVALID_EMBEDDING");
        assertThat(byProduct.get("not-finite").getErrorMessage()).contains("NaN at index 5");
        assertThat(job.run.lists().latest()).doesNotContainKeys("other-model", "wrong-dimension", "not-finite");
    }

    private int withList() {
        Map<String, NeighbourListCollector.Seen> latest = job.run.lists().latest();
        int done = 0;
        for (int n = 0; n < PRODUCTS; n++) {
            if (latest.containsKey(job.catalogue.productId(n))) done++;
        }
        return done;
    }

    private static float[] scaled(float[] vector, float factor) {
        float[] out = new float[vector.length];
        for (int i = 0; i < vector.length; i++) out[i] = vector[i] * factor;
        return out;
    }

    private static float dot(float[] a, float[] b) {
        float s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
