package dev.similarity.flink.event;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class VersionGateTest {

    private static ProductChange change(String id, long version) {
        return new ProductChange(id, ProductChange.Kind.UPSERT, "http://x/" + id, null, version, 0, null);
    }

    private static ProductChange retry(String id, long version, long notBefore) {
        RawCatalogueRecord raw = new RawCatalogueRecord(null, new byte[0], "t", 0, 0, 0, new RetryState(1, 0, notBefore));
        return new ProductChange(id, ProductChange.Kind.UPSERT, "http://x/" + id, null, version, 0, raw);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, ProductChange, ProductChange> harness() throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new VersionGate()), ProductChange::productId, Types.STRING);
    }

    private static java.util.List<String> passed(KeyedOneInputStreamOperatorTestHarness<String, ProductChange, ProductChange> h) {
        return h.extractOutputValues().stream().map(c -> c.productId() + "@" + c.catalogueVersion() + (c.source() != null && c.source().isRetry() ? "r" : "")).toList();
    }

    @Test
    void parksARetryOfTheNewestVersionUntilItIsDue() throws Exception {
        try (var h = harness()) {
            h.open();
            h.setProcessingTime(1_000);
            h.processElement(change("a", 1), 0);
            h.processElement(retry("a", 1, 5_000), 0);
            assertThat(passed(h)).containsExactly("a@1");
            h.setProcessingTime(4_999);
            assertThat(passed(h)).containsExactly("a@1");
            h.setProcessingTime(5_000);
            assertThat(passed(h)).containsExactly("a@1", "a@1r");
        }
    }

    @Test
    void aNewerEventDropsTheParkedRetryAndAnOlderRetryIsDropped() throws Exception {
        try (var h = harness()) {
            h.open();
            h.setProcessingTime(1_000);
            h.processElement(change("a", 1), 0);
            h.processElement(retry("a", 1, 5_000), 0);
            h.processElement(change("a", 2), 0);
            h.setProcessingTime(10_000);
            h.processElement(retry("a", 1, 10_000), 0);
            assertThat(passed(h)).containsExactly("a@1", "a@2");
        }
    }

    @Test
    void aDueRetryOrARedriveOfAnUnseenProductPassesAtOnce() throws Exception {
        try (var h = harness()) {
            h.open();
            h.setProcessingTime(1_000);
            h.processElement(retry("b", 3, 900), 0);
            h.processElement(change("b", 3), 0);
            assertThat(passed(h)).containsExactly("b@3r");
        }
    }

    @Test
    void aParkedRetrySurvivesASnapshotAndRestore() throws Exception {
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState state;
        try (var h = harness()) {
            h.open();
            h.setProcessingTime(1_000);
            h.processElement(change("a", 1), 0);
            h.processElement(retry("a", 1, 5_000), 0);
            state = h.snapshot(1, 1_000);
        }
        try (var h = harness()) {
            h.initializeState(state);
            h.open();
            h.setProcessingTime(6_000);
            assertThat(passed(h)).containsExactly("a@1r");
        }
    }

    @Test
    void passesOnlyNewerVersionsPerProduct() throws Exception {
        try (var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(new VersionGate()), ProductChange::productId, Types.STRING)) {
            harness.open();
            harness.processElement(change("a", 2), 0);
            harness.processElement(change("a", 1), 0);
            harness.processElement(change("a", 2), 0);
            harness.processElement(change("b", 1), 0);
            harness.processElement(change("a", 3), 0);
            assertThat(harness.extractOutputValues()).extracting(c -> c.productId() + "@" + c.catalogueVersion())
                    .containsExactly("a@2", "b@1", "a@3");
        }
    }
}
