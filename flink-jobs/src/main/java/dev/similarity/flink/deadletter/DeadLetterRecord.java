package dev.similarity.flink.deadletter;

import dev.similarity.flink.event.RawCatalogueRecord;
import org.apache.flink.util.OutputTag;

/**
 * Why a catalogue record was not indexed, with the record itself. Every operator that refuses a
 * record emits one of these to {@link #TAG}; the job sends them all to the dead-letter topic.
 *
 * @param reason a {@code dev.similarity.schemas.DeadLetterReason} constant name
 */
public record DeadLetterRecord(
        RawCatalogueRecord source,
        String productId,
        String stage,
        String reason,
        String message,
        String errorClass,
        long failedAt) {

    public static final OutputTag<DeadLetterRecord> TAG = new OutputTag<>("dead-letters") {};

    /** @param errorClass fully qualified name of the exception behind the refusal, or null */
    public static DeadLetterRecord of(RawCatalogueRecord source, String productId, Stage stage, String reason,
                                      String message, String errorClass) {
        return new DeadLetterRecord(source, productId, stage.label, reason, message, errorClass, System.currentTimeMillis());
    }

    /** Where in the pipeline the record was refused. */
    public enum Stage {
        DECODE("decode"), VALIDATE("validate"), FETCH("fetch"), EMBED("embed");

        final String label;

        Stage(String label) {
            this.label = label;
        }
    }
}
