package dev.similarity.flink.deadletter;

import dev.similarity.flink.event.RawCatalogueRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The arithmetic of what a dead letter copies; that the result fits is DeadLetterSerializerTest's. */
class DeadLetterBudgetTest {

    private static final int MIB = 1 << 20;
    private final DeadLetterBudget budget = new DeadLetterBudget(MIB);

    @Test
    void copyRoomIsTheRequestSizeLessFramingAndTheTexts() {
        assertThat(budget.copyRoom(0)).isEqualTo(MIB - 4096);
        assertThat(budget.copyRoom(1_000)).isEqualTo(MIB - 4096 - 1_000);
    }

    @Test
    void aKeyAndValueThatFitAreKeptWhole() {
        assertThat(budget.copy(10, 1_000, 200)).isEqualTo(new DeadLetterBudget.Copy(10, 1_000));
        int room = budget.copyRoom(200);
        assertThat(budget.copy(10, room - 20, 200)).as("exactly the room").isEqualTo(new DeadLetterBudget.Copy(10, room - 20));
    }

    @Test
    void theValueGetsTheRoomTheKeysTwoCopiesLeave() {
        int room = budget.copyRoom(200); // 1,044,280
        assertThat(budget.copy(10, room - 19, 200)).isEqualTo(new DeadLetterBudget.Copy(10, room - 20));
        assertThat(budget.copy(10, MIB, 200)).isEqualTo(new DeadLetterBudget.Copy(10, 1_044_260));
        assertThat(budget.copy(0, 3 * MIB, 200)).isEqualTo(new DeadLetterBudget.Copy(0, 1_044_280));
    }

    @Test
    void theKeyGetsAtMostAQuarterOfTheRoomAndTheValueTheRest() {
        int room = budget.copyRoom(200);
        assertThat(budget.copy(600_000, 3 * MIB, 200)).isEqualTo(new DeadLetterBudget.Copy(room / 4, room - 2 * (room / 4)));
        assertThat(budget.copy(600_000, 100, 200)).as("a small value is whole beside a cut key")
                .isEqualTo(new DeadLetterBudget.Copy(261_070, 100));
        assertThat(budget.copy(room / 4, room, 200)).isEqualTo(new DeadLetterBudget.Copy(room / 4, room - 2 * (room / 4)));
    }

    @Test
    void keyAndValueNeverTakeMoreThanTheRoom() {
        for (int textBytes : new int[] {0, 1, 27 * 1024}) {
            int room = budget.copyRoom(textBytes);
            for (int key : new int[] {0, 1, room / 4 - 1, room / 4, room / 4 + 1, room, 8 * MIB}) {
                for (int value : new int[] {0, 1, room / 2, room - 1, room, room + 1, 8 * MIB}) {
                    DeadLetterBudget.Copy copy = budget.copy(key, value, textBytes);
                    assertThat(2L * copy.keyBytes() + copy.valueBytes()).as("key %d, value %d", key, value).isLessThanOrEqualTo(room);
                    assertThat(copy.keyBytes()).isBetween(0, key);
                    assertThat(copy.valueBytes()).isBetween(0, value);
                    if (2L * key + value <= room && key <= room / 4) {
                        assertThat(copy).as("fits: kept whole").isEqualTo(new DeadLetterBudget.Copy(key, value));
                    }
                }
            }
        }
    }

    @Test
    void aCutTextEndsInAnEllipsisWithinItsCapAndNeverSplitsACodePoint() {
        assertThat(DeadLetterBudget.cut("short", 10)).isEqualTo("short");
        assertThat(DeadLetterBudget.cut("0123456789", 10)).isEqualTo("0123456789");
        assertThat(DeadLetterBudget.cut("0123456789A", 10)).isEqualTo("0123456…"); // 7 + 3 bytes
        assertThat(DeadLetterBudget.cut(null, 10)).isNull();
        // é takes 2 bytes, 😀 4: never half of one.
        assertThat(DeadLetterBudget.cut("éééééé", 10)).isEqualTo("ééé…");
        assertThat(DeadLetterBudget.cut("😀😀😀", 10)).isEqualTo("😀…");
        String emoji = "😀".repeat(50_000);
        String cut = DeadLetterBudget.cut(emoji, DeadLetterBudget.MAX_MESSAGE_BYTES);
        assertThat(cut.getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(DeadLetterBudget.MAX_MESSAGE_BYTES)
                .isGreaterThan(DeadLetterBudget.MAX_MESSAGE_BYTES - 7);
        assertThat(cut).endsWith("…").doesNotContain("?");
    }

    @Test
    void fitCutsLongTextsToTheirCapsAndSaysSo() {
        RawCatalogueRecord source = new RawCatalogueRecord("k".getBytes(StandardCharsets.UTF_8), new byte[100],
                "catalogue-events", 0, 7L, 1L);
        DeadLetterRecord small = new DeadLetterRecord(source, "p-1", "decode", "MALFORMED_RECORD", "bad", "x.Y", 1L);
        DeadLetterBudget.Fitted whole = budget.fit(small);
        assertThat(whole.truncated()).isFalse();
        assertThat(whole.value()).isSameAs(source.value());
        assertThat(whole.errorMessage()).isEqualTo("bad");

        DeadLetterRecord wordy = new DeadLetterRecord(source, "p".repeat(5_000), "decode", "MALFORMED_RECORD",
                "m".repeat(100_000), "x.Y", 1L);
        DeadLetterBudget.Fitted cut = budget.fit(wordy);
        assertThat(cut.truncated()).as("only texts were cut, and that is said too").isTrue();
        assertThat(cut.value()).isSameAs(source.value());
        assertThat(cut.errorMessage()).hasSize(DeadLetterBudget.MAX_MESSAGE_BYTES - 2).endsWith("…");
        assertThat(cut.productId()).hasSize(DeadLetterBudget.MAX_TEXT_BYTES - 2).endsWith("…");
    }

    @Test
    void requestSizesWithoutRoomForACopyAreRefused() {
        assertThatThrownBy(() -> new DeadLetterBudget(64 * 1024 - 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("65535");
        assertThat(new DeadLetterBudget(64 * 1024).copyRoom(27 * 1024)).isEqualTo(33 * 1024);
    }
}
