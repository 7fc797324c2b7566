package dev.similarity.flink.event;

import dev.similarity.flink.IndexerOptions;
import dev.similarity.flink.deadletter.DeadLetterRecord;
import dev.similarity.flink.deadletter.DeadLetterRecord.Stage;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.CatalogueEventKind;
import dev.similarity.schemas.CatalogueEventValidator;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import dev.similarity.schemas.wire.InvalidRecordException;
import dev.similarity.schemas.wire.UnknownWriterSchemaException;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Decodes catalogue events and checks what indexing needs. A record that fails either step goes to
 * {@link DeadLetterRecord#TAG} with the reason; nothing else is dropped.
 *
 * <p>Events written with a producer's schema are resolved to the job's CatalogueEvent by the codec
 * (see {@link CatalogueWriterSchemas}). A single-object event whose writer schema the job was not
 * given is an {@code UNKNOWN_WRITER_SCHEMA} dead letter naming the fingerprint, not a malformed one:
 * its bytes may be good and can be replayed once the schema is configured.
 *
 * <p>An event that carries its own embedding is checked against the job's model here
 * ({@link EventEmbeddingCheck}): one of another model is an {@code EMBEDDING_MODEL_MISMATCH} dead
 * letter, one of the wrong length, with a non-finite value or all zeros an {@code INVALID_EMBEDDING}
 * one; a passing one travels normalised in {@link ProductChange#embedding()}, and its image is not fetched.
 */
public final class CatalogueEventDecoder extends ProcessFunction<RawCatalogueRecord, ProductChange> {

    private static final long serialVersionUID = 1L;

    /** Serializable: carries the writer schemas read at start-up. */
    private final AvroRecordCodec<CatalogueEvent> codec;
    private final EventEmbeddingCheck embeddings;
    private transient Counter eventsIn;
    private transient Counter rejected;

    /**
     * @param codec      from {@link CatalogueWriterSchemas#codec}, which checked the writer schemas at start-up
     * @param embeddings the job's model, which the embeddings events carry must be of
     */
    public CatalogueEventDecoder(AvroRecordCodec<CatalogueEvent> codec, EventEmbeddingCheck embeddings) {
        this.codec = codec;
        this.embeddings = embeddings;
    }

    @Override
    public void open(OpenContext openContext) {
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
        } catch (UnknownWriterSchemaException e) {
            reject(ctx, raw, null, Stage.DECODE, "UNKNOWN_WRITER_SCHEMA", "single-object CatalogueEvent written with"
                    + " writer schema fingerprint " + e.fingerprintHex() + ", which the job does not know (it knows "
                    + codec.writerSchemas().stream().map(AvroRecordCodec::fingerprintHex).collect(Collectors.joining(", "))
                    + "); add the producer's schema (.avsc) to " + IndexerOptions.CATALOGUE_KNOWN_WRITER_SCHEMAS.key()
                    + " and restart the job, then replay this record", e.getClass().getName());
            return;
        } catch (InvalidRecordException | RuntimeException e) {
            reject(ctx, raw, null, Stage.DECODE, "MALFORMED_RECORD",
                    "not a " + codec.format() + " CatalogueEvent: " + e.getMessage() + writerSchemaHint(), e.getClass().getName());
            return;
        }
        List<String> problems = CatalogueEventValidator.problems(event);
        if (!problems.isEmpty()) {
            reject(ctx, raw, event.getProductId(), Stage.VALIDATE, "INVALID_EVENT", "catalogue event " + event.getEventId()
                    + " for product " + event.getProductId() + " is invalid: " + String.join("; ", problems), null);
            return;
        }
        boolean removal = event.getKind() == CatalogueEventKind.REMOVED;
        ProvidedEmbedding embedding = null;
        if (!removal && event.getEmbedding() != null) {
            EventEmbeddingCheck.Result checked = embeddings.check(event.getProductId(), event.getEmbedding());
            if (!checked.passed()) {
                reject(ctx, raw, event.getProductId(), Stage.VALIDATE, checked.reason(), "catalogue event "
                        + event.getEventId() + ": " + checked.message(), null);
                return;
            }
            embedding = checked.embedding();
        }
        out.collect(new ProductChange(
                event.getProductId(),
                removal ? ProductChange.Kind.REMOVE : ProductChange.Kind.UPSERT,
                removal ? null : event.getImageUrl(),
                category(event.getCategoryPath()),
                event.getCatalogueVersion(),
                event.getTimestamp(),
                raw,
                embedding));
    }

    /** Naked bytes do not say which schema wrote them: point at the option that does. */
    private String writerSchemaHint() {
        if (codec.format() != AvroWireFormat.NAKED_BINARY) return "";
        String writer = AvroRecordCodec.fingerprintHex(codec.writerSchemas().get(0));
        if (writer.equals(AvroRecordCodec.fingerprintHex(codec.readerSchema()))) {
            return " (read with the job's own CatalogueEvent schema: if the producers write another, give its .avsc in "
                    + IndexerOptions.CATALOGUE_WRITER_SCHEMA.key() + ")";
        }
        return " (read with the writer schema " + writer + " from " + IndexerOptions.CATALOGUE_WRITER_SCHEMA.key()
                + ": is it still the producers' schema?)";
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
