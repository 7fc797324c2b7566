package dev.similarity.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class EmbeddingVectorsTest {

  @Test
  void vectorsAreLittleEndianFloat32WithoutAHeader() {
    ByteBuffer bytes = EmbeddingVectors.toBytes(new float[] {1f, -2f});

    assertThat(bytes.remaining()).isEqualTo(8);
    assertThat(bytes.array()).containsExactly(0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0);
    assertThat(EmbeddingVectors.fromBytes(bytes)).containsExactly(1f, -2f);
    assertThat(bytes.position()).isZero();
  }

  @Test
  void readsFromTheBuffersPositionAndEveryBitSurvives() {
    float[] odd = {Float.MIN_VALUE, -0f, Float.NaN, Float.MAX_VALUE, 0.1f};
    ByteBuffer shifted = ByteBuffer.allocate(3 + 20);
    shifted.position(3);
    shifted.put(EmbeddingVectors.toBytes(odd)).position(3);

    float[] read = EmbeddingVectors.fromBytes(shifted);
    for (int i = 0; i < odd.length; i++) {
      assertThat(Float.floatToRawIntBits(read[i])).isEqualTo(Float.floatToRawIntBits(odd[i]));
    }
  }

  @Test
  void aLengthThatIsNoMultipleOfFourIsRefusedWithTheLength() {
    assertThatThrownBy(() -> EmbeddingVectors.fromBytes(ByteBuffer.wrap(new byte[10])))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("10 bytes");
  }
}
