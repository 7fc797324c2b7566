package dev.similarity.flink.kafka;

import dev.similarity.flink.deadletter.DeadLetterBudget;
import dev.similarity.flink.deadletter.DeadLetterRecord;
import dev.similarity.flink.event.RawCatalogueRecord;
import dev.similarity.schemas.DeadLetter;
import dev.similarity.schemas.DeadLetterHeaders;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dead letters against the producer's own measure of a record
 * ({@link AbstractRecords#estimateSizeInBytesUpperBound}, what it compares with max.request.size).
 */
class DeadLetterSerializerTest {

    private static final int MIB = 1 << 20;
    private static final AvroRecordCodec<DeadLetter> CODEC = AvroRecordCodec.of(DeadLetter.class, AvroWireFormat.SINGLE_OBJECT);

    @Test
    void everyDeadLetterFitsTheRequestSizeWhateverItsRecordAndTexts() throws Exception {
        Random random = new Random(5);
        int worstFraming = 0;
        int cases = 0;
        for (int requestBytes : new int[] {DeadLetterBudget.MIN_REQUEST_BYTES, MIB, 4 * MIB}) {
            DeadLetterSerializer serializer = new DeadLetterSerializer("dead-letters", new DeadLetterBudget(requestBytes));
            for (byte[] key : List.of(bytes(random, 0), bytes(random, 12), bytes(random, requestBytes / 4), bytes(random, 2 * requestBytes))) {
                for (byte[] value : List.of(bytes(random, 0), bytes(random, 100), bytes(random, requestBytes - 100),
                        bytes(random, requestBytes), bytes(random, 3 * requestBytes))) {
                    for (String text : texts()) {
                        DeadLetterRecord record = new DeadLetterRecord(
                                new RawCatalogueRecord(key, value, "catalogue-events-" + text.length(), Integer.MAX_VALUE,
                                        Long.MAX_VALUE, Long.MIN_VALUE),
                                text, text, "MALFORMED_RECORD", text, text, Long.MAX_VALUE);
                        ProducerRecord<byte[], byte[]> produced = serializer.serialize(record, null, null);
                        int size = size(produced);
                        assertThat(size).as("request %d, key %d, value %d, text %d chars", requestBytes, key.length,
                                value.length, text.length()).isLessThanOrEqualTo(requestBytes);
                        DeadLetter letter = CODEC.decode(produced.value());
                        worstFraming = Math.max(worstFraming, size - 2 * length(produced.key()) - letter.getOriginalValue().remaining()
                                - textBytes(letter));
                        cases++;
                    }
                }
            }
            // Nothing else is null-safe-tested above: a record with no key, no value and no texts.
            DeadLetterRecord bare = new DeadLetterRecord(null, null, "decode", "OTHER", null, null, 0L);
            assertThat(size(serializer.serialize(bare, null, null))).isLessThanOrEqualTo(requestBytes);
        }
        System.out.printf("%d dead letters fit; framing took at most %d of its %d bytes%n", cases, worstFraming,
                DeadLetterBudget.FRAMING_BYTES);
        assertThat(worstFraming).as("FRAMING_BYTES keeps a margin").isLessThan(DeadLetterBudget.FRAMING_BYTES * 3 / 4);
    }

    @Test
    void aSmallRecordIsCopiedWholeWithItsSizesAndDigests() throws Exception {
        byte[] key = "p-1".getBytes(StandardCharsets.UTF_8);
        byte[] value = "not an event".getBytes(StandardCharsets.UTF_8);
        DeadLetterRecord record = new DeadLetterRecord(new RawCatalogueRecord(key, value, "catalogue-events", 2, 41L, 5L),
                null, "decode", "MALFORMED_RECORD", "not a NAKED_BINARY CatalogueEvent", "x.InvalidRecordException", 9L);
        ProducerRecord<byte[], byte[]> produced = new DeadLetterSerializer("dl", new DeadLetterBudget(MIB)).serialize(record, null, null);
        DeadLetter letter = CODEC.decode(produced.value());

        assertThat(produced.key()).isEqualTo(key);
        assertThat(array(letter.getOriginalValue())).isEqualTo(value);
        assertThat(array(letter.getOriginalKey())).isEqualTo(key);
        assertThat(letter.getTruncated()).isFalse();
        assertThat(letter.getOriginalKeyBytes()).isEqualTo(3L);
        assertThat(letter.getOriginalValueBytes()).isEqualTo(12L);
        // printf 'not an event' | sha256sum
        assertThat(letter.getOriginalValueSha256()).isEqualTo("3e3de993b2db2c49fbfdeb10b2cd9e0b240b7a0c3f212c80b6b428036328ffb3");
        assertThat(header(produced, DeadLetterHeaders.TRUNCATED)).isEqualTo("false");
        assertThat(header(produced, DeadLetterHeaders.ORIGINAL_VALUE_SHA256)).isEqualTo(letter.getOriginalValueSha256());
        assertThat(header(produced, DeadLetterHeaders.EXCEPTION_MESSAGE)).isEqualTo("not a NAKED_BINARY CatalogueEvent");
    }

    @Test
    void anOversizedRecordKeepsItsFirstBytesAndTheWholeOriginalsSizeAndDigest() throws Exception {
        byte[] value = bytes(new Random(1), 3 * MIB);
        byte[] key = "k".repeat(600_000).getBytes(StandardCharsets.UTF_8);
        DeadLetterRecord record = new DeadLetterRecord(new RawCatalogueRecord(key, value, "catalogue-events", 0, 1L, 1L),
                null, "decode", "MALFORMED_RECORD", "m".repeat(50_000), "x.Y", 1L);
        ProducerRecord<byte[], byte[]> produced = new DeadLetterSerializer("dl", new DeadLetterBudget(MIB)).serialize(record, null, null);
        DeadLetter letter = CODEC.decode(produced.value());

        assertThat(size(produced)).isLessThanOrEqualTo(MIB);
        assertThat(letter.getTruncated()).isTrue();
        assertThat(header(produced, DeadLetterHeaders.TRUNCATED)).isEqualTo("true");
        byte[] kept = array(letter.getOriginalValue());
        assertThat(kept.length).isGreaterThan(400_000);
        assertThat(kept).isEqualTo(Arrays.copyOf(value, kept.length));
        assertThat(produced.key()).isEqualTo(array(letter.getOriginalKey())).isEqualTo(Arrays.copyOf(key, produced.key().length));
        assertThat(letter.getOriginalValueBytes()).isEqualTo(3L * MIB);
        assertThat(letter.getOriginalKeyBytes()).isEqualTo(600_000L);
        assertThat(letter.getOriginalValueSha256()).isEqualTo(dev.similarity.flink.internal.Sha256.hex(value)).hasSize(64);
        assertThat(letter.getOriginalKeySha256()).isEqualTo(dev.similarity.flink.internal.Sha256.hex(key));
        assertThat(header(produced, DeadLetterHeaders.ORIGINAL_VALUE_BYTES)).isEqualTo(String.valueOf(3 * MIB));
        assertThat(letter.getErrorMessage()).endsWith("…").hasSizeLessThanOrEqualTo(DeadLetterBudget.MAX_MESSAGE_BYTES);
    }

    /** Texts of every width: none, short, long ASCII, long two-, three- and four-byte characters. */
    private static List<String> texts() {
        List<String> texts = new ArrayList<>();
        texts.add("");
        texts.add("p-1");
        texts.add("a".repeat(200_000));
        texts.add("é".repeat(100_000));
        texts.add("€".repeat(70_000));
        texts.add("😀".repeat(50_000));
        return texts;
    }

    private static int textBytes(DeadLetter letter) {
        return utf8(letter.getProductId()) + 2 * (utf8(letter.getSourceTopic()) + utf8(letter.getStage())
                + utf8(letter.getErrorClass()) + utf8(letter.getErrorMessage()));
    }

    private static int size(ProducerRecord<byte[], byte[]> record) {
        Header[] headers = record.headers().toArray();
        return AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE, CompressionType.NONE,
                record.key(), record.value(), headers);
    }

    private static String header(ProducerRecord<byte[], byte[]> record, String key) {
        Header header = record.headers().lastHeader(key);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static int utf8(String text) {
        return text == null ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
    }

    private static int length(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static byte[] array(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    private static byte[] bytes(Random random, int size) {
        byte[] bytes = new byte[size];
        random.nextBytes(bytes);
        return bytes;
    }
}
