package dev.similarity.flink.embed;

import dev.similarity.flink.deadletter.DeadLetterRecord;
import dev.similarity.flink.event.RetryState;
import org.apache.flink.util.OutputTag;

/**
 * An image that failed transiently and is to be tried again: the dead letter it would become, and
 * when to try next. The job writes these to the fetch-retry topic; they come back through the
 * version gate, which parks each until {@link RetryState#notBefore()}.
 */
public record FetchRetry(DeadLetterRecord letter, RetryState state) {

    public static final OutputTag<FetchRetry> TAG = new OutputTag<>("fetch-retries") {};
}
