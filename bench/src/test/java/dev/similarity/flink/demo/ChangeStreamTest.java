package dev.similarity.flink.demo;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChangeStreamTest {

    @Test
    void changeOptionsAreTakenOutAndTheRestIsLeftForTheDemo() {
        List<String> args = new ArrayList<>(List.of("--products", "300", "--change-rate", "20", "--exit", "--change-duration", "60s"));

        ChangeStream.Options options = ChangeStream.extract(args);

        assertThat(options).isEqualTo(new ChangeStream.Options(20, 60));
        assertThat(options.events()).isEqualTo(1200);
        assertThat(args).containsExactly("--products", "300", "--exit");
        assertThat(DemoArgs.parse(args.toArray(new String[0]), "usage").products()).isEqualTo(300);
    }

    @Test
    void withoutOptionsTheDemoStreamsFiftyEventsASecondForThirtySeconds() {
        assertThat(ChangeStream.extract(new ArrayList<>(List.of("--exit")))).isEqualTo(new ChangeStream.Options(50, 30));
    }

    @Test
    void aZeroRateMeansNoChangePhase() {
        assertThat(ChangeStream.extract(new ArrayList<>(List.of("--change-rate", "0"))).events()).isZero();
    }

    @Test
    void badValuesAreRefusedWithTheOptionInTheMessage() {
        assertThatThrownBy(() -> ChangeStream.extract(new ArrayList<>(List.of("--change-duration", "a minute"))))
                .hasMessageContaining("--change-duration expects a number of seconds (60 or 60s), got 'a minute'");
        assertThatThrownBy(() -> ChangeStream.extract(new ArrayList<>(List.of("--change-rate", "-5"))))
                .hasMessageContaining("--change-rate must be 0 (no changes) or a positive number");
        assertThatThrownBy(() -> ChangeStream.extract(new ArrayList<>(List.of("--change-rate"))))
                .hasMessageContaining("--change-rate needs a value");
    }

    @Test
    void theMixIsFourAdditionsFourImageChangesAndTwoRemovalsInTen() {
        ChangeStream.Plan plan = ChangeStream.plan(new ChangeStream.Options(50, 30), 10_000, 70_000);

        assertThat(plan).isEqualTo(new ChangeStream.Plan(600, 600, 300, 50));
        assertThat(plan.events()).isEqualTo(1500);
    }

    @Test
    void aSmallCatalogueIsNotEmptiedTheRestAreAdditions() {
        ChangeStream.Plan plan = ChangeStream.plan(new ChangeStream.Options(50, 30), 300, 70_000);

        assertThat(plan.removals()).isEqualTo(75);
        assertThat(plan.imageChanges()).isEqualTo(150);
        assertThat(plan.additions()).isEqualTo(1500 - 75 - 150);
    }

    @Test
    void additionsStopWhereTheCatalogueRunsOutOfNewImages() {
        ChangeStream.Plan plan = ChangeStream.plan(new ChangeStream.Options(100, 60), 69_000, 70_000);

        assertThat(plan.imageChanges()).isEqualTo(1000);
        assertThat(plan.additions()).isZero();
    }

    @Test
    void theTextShowsTheBootstrapAndTheChangesFreshnessApart() {
        String text = ChangeStream.text(Map.of("products_with_list", 10000, "wall_s", 40.5, "events_per_s", 246.9),
                Map.of("events", 1500, "rate", 50.0, "additions", 600, "image_changes", 600, "removals", 300,
                        "latency_ms", Map.of("p50", 900, "p95", 1500, "p99", 2100, "samples", 1200),
                        "reverse_latency_ms", Map.of("p50", 950, "p95", 1600, "p99", 2300, "samples", 9000)));

        assertThat(text).contains("bootstrap: 10000 products with a list 40.5 s after the first was fed (246.9 products/s)")
                .contains("p50 900 ms, p95 1500 ms, p99 2100 ms (1200 lists)");
    }
}
