package dev.similarity.flink.index;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class ImageNeighboursTest {

    @Test
    void keepsCandidatesBestFirstAndAtMostDepth() {
        ImageNeighbours n = new ImageNeighbours();
        n.offer("a", "ra", 0.5f, 3);
        n.offer("b", "rb", 0.9f, 3);
        n.offer("c", "rc", 0.7f, 3);
        n.offer("d", "rd", 0.1f, 3);
        assertThat(n.ids).containsExactly("b", "c", "a");
        n.offer("e", "re", 0.8f, 3);
        assertThat(n.ids).containsExactly("b", "e", "c");
        assertThat(n.representatives).containsExactly("rb", "re", "rc");
        assertThat(n.scores).containsExactly(0.9f, 0.8f, 0.7f);
    }

    @Test
    void offeringAKnownImageMovesItToItsNewScore() {
        ImageNeighbours n = new ImageNeighbours();
        n.offer("a", "ra", 0.9f, 3);
        n.offer("b", "rb", 0.8f, 3);
        n.offer("a", "ra", 0.1f, 3);
        assertThat(n.ids).containsExactly("b", "a");
        assertThat(n.scores).containsExactly(0.8f, 0.1f);
    }

    @Test
    void aNewRepresentativeRenamesTheImageInPlace() {
        ImageNeighbours n = new ImageNeighbours();
        n.offer("a", "first", 0.9f, 3);
        n.offer("b", "rb", 0.8f, 3);
        assertThat(n.replace("a", "second")).isTrue();
        assertThat(n.replace("a", "second")).isFalse();
        assertThat(n.replace("nope", "x")).isFalse();
        assertThat(n.topRepresentatives(2)).containsExactly("second", "rb");
        assertThat(n.topChangedSincePublished(2)).isTrue();
        n.markPublished(2);
        assertThat(n.topChangedSincePublished(2)).isFalse();
    }

    @Test
    void removalLetsReservesMoveUp() {
        ImageNeighbours n = new ImageNeighbours();
        for (int i = 0; i < 5; i++) n.offer("p" + i, "r" + i, 1f - i / 10f, 5);
        assertThat(n.remove("p1")).isTrue();
        assertThat(n.remove("nope")).isFalse();
        assertThat(n.topIds(3)).containsExactly("p0", "p2", "p3");
        assertThat(n.topRepresentatives(3)).containsExactly("r0", "r2", "r3");
    }

    @Test
    void aNewGenerationDiscardsWhatWasSaidOfTheOldOne() {
        ImageNeighbours n = new ImageNeighbours();
        n.offer("early", "r", 0.5f, 3); // a candidate before the image's first partial: kept
        n.startVersion(1, 2);
        assertThat(n.ids).containsExactly("early");
        assertThat(n.partialFrom(0)).isTrue();
        assertThat(n.partialFrom(0)).as("a shard's partial list sent again").isFalse();
        assertThat(n.complete()).isFalse();
        assertThat(n.partialFrom(1)).isTrue();
        assertThat(n.complete()).isTrue();
        n.markPublished(3);
        n.startVersion(2, 2);
        assertThat(n.ids).isEmpty();
        assertThat(n.complete()).isFalse();
        assertThat(n.publishedIds).isNull();
    }

    @Test
    void encodingRoundTripsEveryField() {
        ImageNeighbours n = new ImageNeighbours();
        n.startVersion(7, 4);
        n.partialFrom(0);
        n.partialFrom(1);
        n.partialFrom(3);
        n.offer("img-1", "p-1", 0.9f, 5);
        n.offer("img-2", "ürün-2", 0.8f, 5);
        n.offer("img-3", "p-3", -0.25f, 5);
        n.markPublished(2);

        ImageNeighbours decoded = ImageNeighbours.decode(n.encode());

        assertThat(decoded).usingRecursiveComparison().isEqualTo(n);
    }

    @Test
    void neverPublishedStaysNeverPublishedThroughEncoding() {
        ImageNeighbours n = new ImageNeighbours();
        n.offer("early", "r", 0.5f, 3);

        ImageNeighbours decoded = ImageNeighbours.decode(n.encode());

        assertThat(decoded.publishedIds).isNull();
        assertThat(decoded.version).isEqualTo(-1);
        assertThat(decoded.ids).containsExactly("early");
    }

    @Test
    void offerWouldChangeOnTheEncodingAgreesWithOffer() {
        Random random = new Random(5);
        for (int round = 0; round < 2_000; round++) {
            ImageNeighbours n = new ImageNeighbours();
            int depth = 1 + random.nextInt(6);
            for (int i = random.nextInt(8); i > 0; i--) {
                n.offer("i" + random.nextInt(10), "r" + random.nextInt(2), random.nextInt(5) / 4f, depth);
            }
            String id = "i" + random.nextInt(10);
            String representative = "r" + random.nextInt(2);
            float score = random.nextInt(5) / 4f;
            byte[] encoded = n.encode();

            boolean predicted = ImageNeighbours.offerWouldChange(encoded, id, representative, score, depth);

            assertThat(predicted)
                    .as("offer(%s, %s, %s, %s) to %s", id, representative, score, depth, Arrays.toString(n.ids))
                    .isEqualTo(ImageNeighbours.decode(encoded).offer(id, representative, score, depth));
        }
    }
}
