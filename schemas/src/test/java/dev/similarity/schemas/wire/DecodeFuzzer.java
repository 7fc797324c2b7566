package dev.similarity.schemas.wire;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.HexFormat;
import java.util.SplittableRandom;

/** Feeds a codec inputs it must either decode or refuse with InvalidRecordException; anything else fails the test. */
final class DecodeFuzzer {

  private DecodeFuzzer() {}

  /** Random bytes; for single-object codecs half of them sit behind a valid header so they reach the body decoder. */
  static void randomBytes(AvroRecordCodec<?> codec, byte[] validEncoding, long seed, int count) {
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < count; i++) {
      byte[] input = new byte[random.nextInt(1, 64)];
      random.nextBytes(input);
      if (codec.format() == AvroWireFormat.SINGLE_OBJECT && random.nextBoolean()) {
        System.arraycopy(validEncoding, 0, input, 0, Math.min(10, input.length));
      }
      decodeOrRefuse(codec, input);
    }
  }

  /** {@code validEncoding} with one to three bytes replaced at random. */
  static void mutations(AvroRecordCodec<?> codec, byte[] validEncoding, long seed, int count) {
    SplittableRandom random = new SplittableRandom(seed);
    int decoded = 0;
    for (int i = 0; i < count; i++) {
      byte[] input = validEncoding.clone();
      for (int flips = random.nextInt(1, 4); flips > 0; flips--) {
        input[random.nextInt(input.length)] = (byte) random.nextInt(256);
      }
      if (decodeOrRefuse(codec, input)) decoded++;
    }
    assertTrue(decoded > 0, "no mutation decoded at all: the mutations never got past the first bytes");
  }

  private static boolean decodeOrRefuse(AvroRecordCodec<?> codec, byte[] input) {
    try {
      codec.decode(input);
      return true;
    } catch (InvalidRecordException expected) {
      return false;
    } catch (Throwable e) {
      fail("decoding " + HexFormat.of().formatHex(input) + " with " + codec + " threw " + e, e);
      return false;
    }
  }
}
