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
