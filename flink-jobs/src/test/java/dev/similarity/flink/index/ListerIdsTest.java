package dev.similarity.flink.index;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ListerIdsTest {

    @Test
    void appendsOnlyIdsNotYetInTheSet() {
        byte[] first = ListerIds.withAll(null, List.of("p1", "p22", "p1"));
        byte[] second = ListerIds.withAll(first, List.of("p22", "p3", "p2"));

        assertThat(ListerIds.decode(first)).containsExactly("p1", "p22");
        assertThat(ListerIds.decode(second)).containsExactly("p1", "p22", "p3", "p2");
    }

    @Test
    void returnsTheSameArrayWhenNothingIsNew() {
        byte[] known = ListerIds.withAll(null, List.of("a", "b"));

        assertThat(ListerIds.withAll(known, List.of("b", "a"))).isSameAs(known);
    }

    @Test
    void prefixOfAKnownIdIsADifferentId() {
        byte[] known = ListerIds.withAll(null, List.of("product-10", "ürün-7"));
        byte[] updated = ListerIds.withAll(known, List.of("product-1", "ürün-"));

        assertThat(ListerIds.decode(updated)).containsExactly("product-10", "ürün-7", "product-1", "ürün-");
    }

    @Test
    void emptyForNoState() {
        assertThat(ListerIds.decode(null)).isEmpty();
    }
}
