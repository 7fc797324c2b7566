package dev.similarity.flink.event;

import dev.similarity.flink.deadletter.DeadLetterRecord;
import dev.similarity.flink.deadletter.DeadLetterRecord.Stage;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventKind;
import dev.similarity.schemas.CatalogueEventValidator;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import dev.similarity.schemas.wire.InvalidRecordException;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.util.List;

/**
 * Decodes catalogue events and checks what indexing needs. A record that fails either step goes to
 * {@link DeadLetterRecord#TAG} with the reason; nothing else is dropped.
 */
public final class CatalogueEventDecoder extends ProcessFunction<RawCatalogueRecord, ProductChange> {

    private static final long serialVersionUID = 1L;

    private final AvroWireFormat wireFormat;
    private transient AvroRecordCodec<CatalogueEvent> codec;
    private transient Counter eventsIn;
    private transient Counter rejected;

    public CatalogueEventDecoder(AvroWireFormat wireFormat) {
        this.wireFormat = wireFormat;
    }

    @Override
    public void open(OpenContext openContext) {
        codec = AvroRecordCodec.of(CatalogueEvent.class, wireFormat);
        eventsIn = getRuntimeContext().getMetricGroup().counter("eventsIn");
        rejected = getRuntimeContext().getMetricGroup().counter("eventsRejected");
    }

    @Override
    public void processElement(RawCatalogueRecord raw, Context ctx, Collector<ProductChange> out) {
        eventsIn.inc();
        CatalogueEvent event;
        try {
            if (raw.value() == null) {
                throw new InvalidRecordException("record has no value (a tombstone is not a catalogue event)");
            }
            event = codec.decode(raw.value());
        } catch (InvalidRecordException | RuntimeException e) {
            reject(ctx, raw, null, Stage.DECODE, "MALFORMED_RECORD",
                    "not a " + wireFormat + " CatalogueEvent: " + e.getMessage(), e.getClass().getName());
            return;
        }
        List<String> problems = CatalogueEventValidator.problems(event);
        if (!problems.isEmpty()) {
            reject(ctx, raw, event.getProductId(), Stage.VALIDATE, "INVALID_EVENT", "catalogue event " + event.getEventId()
                    + " for product " + event.getProductId() + " is invalid: " + String.join("; ", problems), null);
            return;
        }
        boolean removal = event.getKind() == CatalogueEventKind.REMOVED;
        out.collect(new ProductChange(
                event.getProductId(),
                removal ? ProductChange.Kind.REMOVE : ProductChange.Kind.UPSERT,
                removal ? null : event.getImageUrl(),
                category(event.getCategoryPath()),
                event.getCatalogueVersion(),
                event.getTimestamp(),
                raw));
    }

    static String category(List<String> path) {
        return path == null || path.isEmpty() ? null : String.join(" > ", path);
    }

    private void reject(Context ctx, RawCatalogueRecord raw, String productId, Stage stage, String reason,
                        String message, String errorClass) {
        rejected.inc();
        ctx.output(DeadLetterRecord.TAG, DeadLetterRecord.of(raw, productId, stage, reason, message, errorClass));
    }
}
