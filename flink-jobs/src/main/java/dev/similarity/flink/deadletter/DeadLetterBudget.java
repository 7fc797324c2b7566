package dev.similarity.flink.deadletter;

import dev.similarity.flink.event.RawCatalogueRecord;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * How much of a refused record its dead letter copies, so that the dead letter always fits in one
 * producer request of {@code max.request.size} bytes ({@code kafka.max-request-size}). A larger
 * record is refused by the producer with {@code RecordTooLargeException}, which fails the
 * dead-letter sink, and the job with it, on every replay of the same record.
 *
 * <p>The budget counts the Kafka record as the producer sizes it (key, value, headers, framing):
 * <ol>
 *   <li>{@link #FRAMING_BYTES} for everything of bounded size: Kafka's batch and record framing,
 *       the header names, the numeric, flag and digest headers and fields, the Avro single-object
 *       header and every field's framing.
 *   <li>The texts, each first cut to a cap: the error message to {@link #MAX_MESSAGE_BYTES}, the
 *       product id, stage, error class and source topic to {@link #MAX_TEXT_BYTES} (UTF-8). Each is
 *       counted as often as it travels: the product id once (a field), the others twice (a field
 *       and a {@code __connect.errors.*} header).
 *   <li>The rest, the copy room, for the original key and value. The key travels twice (the dead
 *       letter's Kafka key and its {@code originalKey} field) and gets at most a quarter of the
 *       room; the value gets all the room the key leaves.
 * </ol>
 * A cut key or value keeps its first bytes; a cut text keeps its first characters and ends in "…".
 * Whatever is cut, the dead letter says so ({@code truncated}) and carries the whole original's
 * sizes and SHA-256 digests (see {@code DeadLetterSerializer}).
 */
public final class DeadLetterBudget implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Bytes for everything of bounded size: about five times what it takes (at most 830 bytes in DeadLetterSerializerTest). */
    public static final int FRAMING_BYTES = 4 * 1024;
    /** Cap of the error message, in UTF-8 bytes. */
    public static final int MAX_MESSAGE_BYTES = 8 * 1024;
    /** Cap of the product id, stage, error class and source topic, each in UTF-8 bytes. */
    public static final int MAX_TEXT_BYTES = 1024;
    /** The smallest request size accepted: the framing and the capped texts take up to 27 KiB. */
    public static final int MIN_REQUEST_BYTES = 64 * 1024;

    static final String ELLIPSIS = "…";

    private final int maxRequestBytes;

    /** @throws IllegalArgumentException if {@code maxRequestBytes} is under {@link #MIN_REQUEST_BYTES} */
    public DeadLetterBudget(long maxRequestBytes) {
        if (maxRequestBytes < MIN_REQUEST_BYTES || maxRequestBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a dead-letter budget of " + maxRequestBytes + " bytes is outside "
                    + MIN_REQUEST_BYTES + " .. " + Integer.MAX_VALUE + " bytes");
        }
        this.maxRequestBytes = (int) maxRequestBytes;
    }

    public int maxRequestBytes() {
        return maxRequestBytes;
    }

    /** What a dead letter copies of a record: whole or cut, with {@code truncated} set when anything was cut. */
    public record Fitted(byte[] key, byte[] value, String sourceTopic, String productId, String stage,
                         String errorClass, String errorMessage, boolean truncated) {}

    /** How many of the original key's and value's first bytes a dead letter keeps. */
    public record Copy(int keyBytes, int valueBytes) {}

    /** Cuts {@code record}'s copies and texts to fit; the source's arrays are never modified. */
    public Fitted fit(DeadLetterRecord record) {
        RawCatalogueRecord source = record.source();
        String originalTopic = source == null ? "" : source.topic();
        String originalClass = record.errorClass() == null ? "" : record.errorClass();
        String topic = cut(originalTopic, MAX_TEXT_BYTES);
        String productId = cut(record.productId(), MAX_TEXT_BYTES);
        String stage = cut(record.stage(), MAX_TEXT_BYTES);
        String errorClass = cut(originalClass, MAX_TEXT_BYTES);
        String message = cut(record.message(), MAX_MESSAGE_BYTES);
        int textBytes = utf8Length(productId)
                + 2 * (utf8Length(topic) + utf8Length(stage) + utf8Length(errorClass) + utf8Length(message));
        byte[] key = source == null ? null : source.key();
        byte[] value = source == null ? null : source.value();
        Copy copy = copy(length(key), length(value), textBytes);
        // cut() returns its argument itself when it fits: a different instance is a cut text.
        boolean textCut = topic != originalTopic || productId != record.productId() || stage != record.stage()
                || errorClass != originalClass || message != record.message();
        boolean truncated = textCut || copy.keyBytes() < length(key) || copy.valueBytes() < length(value);
        return new Fitted(prefix(key, copy.keyBytes()), prefix(value, copy.valueBytes()), topic, productId, stage,
                errorClass, message, truncated);
    }

    /**
     * The bytes of a key of {@code keyBytes} and a value of {@code valueBytes} to keep when the texts
     * take {@code textBytes} (counted per copy): the key at most a quarter of the copy room, the value
     * the room the key's two copies leave.
     */
    public Copy copy(int keyBytes, int valueBytes, int textBytes) {
        int room = copyRoom(textBytes);
        int key = Math.min(keyBytes, room / 4);
        int value = Math.min(valueBytes, room - 2 * key);
        return new Copy(key, value);
    }

    /** Bytes left for the key's two copies and the value once framing and the texts are paid for. */
    public int copyRoom(int textBytes) {
        return maxRequestBytes - FRAMING_BYTES - textBytes;
    }

    /**
     * {@code text} if its UTF-8 encoding takes at most {@code maxBytes}, else its longest prefix of
     * whole code points that, followed by "…", does; null stays null.
     */
    static String cut(String text, int maxBytes) {
        if (text == null || utf8Length(text) <= maxBytes) {
            return text;
        }
        int budget = maxBytes - utf8Length(ELLIPSIS);
        int used = 0;
        int end = 0;
        while (end < text.length()) {
            int codePoint = text.codePointAt(end);
            int bytes = utf8Length(codePoint);
            if (used + bytes > budget) break;
            used += bytes;
            end += Character.charCount(codePoint);
        }
        return text.substring(0, end) + ELLIPSIS;
    }

    /** Bytes of {@code text} in UTF-8 as Avro and Kafka headers write it; 0 for null. */
    static int utf8Length(String text) {
        return text == null ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
    }

    /** At least what Java's UTF-8 encoder writes for the code point (a lone surrogate becomes one '?'). */
    private static int utf8Length(int codePoint) {
        if (codePoint < 0x80) return 1;
        if (codePoint < 0x800) return 2;
        if (codePoint < 0x10000) return 3;
        return 4;
    }

    private static int length(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static byte[] prefix(byte[] bytes, int length) {
        return bytes == null || bytes.length == length ? bytes : Arrays.copyOf(bytes, length);
    }
}
