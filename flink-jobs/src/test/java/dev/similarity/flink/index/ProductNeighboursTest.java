package dev.similarity.flink.index;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ProductNeighboursTest {

    @Test
    void keepsCandidatesBestFirstAndAtMostDepth() {
        ProductNeighbours n = new ProductNeighbours();
        n.offer("a", 0.5f, 3);
        n.offer("b", 0.9f, 3);
        n.offer("c", 0.7f, 3);
        n.offer("d", 0.1f, 3);
        assertThat(n.ids).containsExactly("b", "c", "a");
        n.offer("e", 0.8f, 3);
        assertThat(n.ids).containsExactly("b", "e", "c");
        assertThat(n.scores).containsExactly(0.9f, 0.8f, 0.7f);
    }

    @Test
    void offeringAKnownIdMovesItToItsNewScore() {
        ProductNeighbours n = new ProductNeighbours();
        n.offer("a", 0.9f, 3);
        n.offer("b", 0.8f, 3);
        n.offer("a", 0.1f, 3);
        assertThat(n.ids).containsExactly("b", "a");
        assertThat(n.scores).containsExactly(0.8f, 0.1f);
    }

    @Test
    void removalLetsReservesMoveUp() {
        ProductNeighbours n = new ProductNeighbours();
        for (int i = 0; i < 5; i++) n.offer("p" + i, 1f - i / 10f, 5);
        assertThat(n.remove("p1")).isTrue();
        assertThat(n.remove("nope")).isFalse();
        assertThat(n.topIds(3)).containsExactly("p0", "p2", "p3");
    }

    @Test
    void newVersionDiscardsCandidatesScoredAgainstTheOldVector() {
        ProductNeighbours n = new ProductNeighbours();
        n.offer("early", 0.5f, 3); // a candidate before the product's first partial: kept
        n.startVersion(1, 2);
        assertThat(n.ids).containsExactly("early");
        n.partialsReceived = 2;
        assertThat(n.complete()).isTrue();
        n.startVersion(2, 2);
        assertThat(n.ids).isEmpty();
        assertThat(n.complete()).isFalse();
    }

    @Test
    void encodingRoundTripsEveryField() {
        ProductNeighbours n = new ProductNeighbours();
        n.startVersion(7, 4);
        n.partialsReceived = 3;
        n.offer("p-1", 0.9f, 5);
        n.offer("ürün-2", 0.8f, 5);
        n.offer("p-3", -0.25f, 5);
        n.publishedIds = new String[] {"p-1", "ürün-2"};
        n.publishedVersion = 6;

        ProductNeighbours decoded = ProductNeighbours.decode(n.encode());

        org.assertj.core.api.Assertions.assertThat(decoded).usingRecursiveComparison().isEqualTo(n);
    }

    @Test
    void neverPublishedStaysNeverPublishedThroughEncoding() {
        ProductNeighbours n = new ProductNeighbours();
        n.offer("early", 0.5f, 3);

        ProductNeighbours decoded = ProductNeighbours.decode(n.encode());

        org.assertj.core.api.Assertions.assertThat(decoded.publishedIds).isNull();
        org.assertj.core.api.Assertions.assertThat(decoded.version).isEqualTo(-1);
        org.assertj.core.api.Assertions.assertThat(decoded.ids).containsExactly("early");
    }

    @Test
    void offerWouldChangeOnTheEncodingAgreesWithOffer() {
        java.util.Random random = new java.util.Random(5);
        for (int round = 0; round < 2_000; round++) {
            ProductNeighbours n = new ProductNeighbours();
            int depth = 1 + random.nextInt(6);
            for (int i = random.nextInt(8); i > 0; i--) {
                n.offer("p" + random.nextInt(10), random.nextInt(5) / 4f, depth);
            }
            String id = "p" + random.nextInt(10);
            float score = random.nextInt(5) / 4f;
            byte[] encoded = n.encode();

            boolean predicted = ProductNeighbours.offerWouldChange(encoded, id, score, depth);

            org.assertj.core.api.Assertions.assertThat(predicted)
                    .as("offer(%s, %s, %s) to %s", id, score, depth, java.util.Arrays.toString(n.ids))
                    .isEqualTo(ProductNeighbours.decode(encoded).offer(id, score, depth));
        }
    }
}
