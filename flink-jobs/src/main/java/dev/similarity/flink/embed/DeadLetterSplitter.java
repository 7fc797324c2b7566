package dev.similarity.flink.embed;

import dev.similarity.flink.deadletter.DeadLetterRecord;
import dev.similarity.flink.event.ProductChange;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/** Sends failed fetch-and-embed outcomes to the dead letters, the rest on. */
public final class DeadLetterSplitter extends ProcessFunction<EmbeddingOutcome, EmbeddingOutcome> {

    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(EmbeddingOutcome outcome, Context ctx, Collector<EmbeddingOutcome> out) {
        if (!outcome.isFailure()) {
            out.collect(outcome);
            return;
        }
        ProductChange change = outcome.change();
        DeadLetterRecord.Stage stage = "fetch".equals(outcome.failureStage()) ? DeadLetterRecord.Stage.FETCH : DeadLetterRecord.Stage.EMBED;
        ctx.output(DeadLetterRecord.TAG, DeadLetterRecord.of(change.source(), change.productId(), stage,
                outcome.failureReason(), outcome.failureMessage(), outcome.failureClass()));
    }
}
