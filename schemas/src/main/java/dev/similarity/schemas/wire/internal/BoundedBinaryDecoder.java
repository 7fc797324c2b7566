package dev.similarity.schemas.wire.internal;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.SystemLimitException;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * Avro binary decoding over one byte array that never allocates more than the input could hold.
 *
 * <p>Avro's own {@code BinaryDecoder} allocates a string, bytes or collection of the length a
 * length prefix announces before it knows whether that many bytes follow, so ten bytes of garbage
 * can ask for a 2 GB array. Here every length is checked against the bytes that remain first:
 *
 * <ul>
 *   <li>a string, bytes or fixed of n bytes needs n remaining bytes;
 *   <li>a block of n array items or map entries needs at least n remaining bytes. That holds only
 *       when every item encodes to one byte or more, which {@link SchemaBounds} checks once per
 *       schema before this decoder is used on it.
 * </ul>
 *
 * Avro's {@code org.apache.avro.limits.*} system properties are enforced as well, so an operator
 * can set tighter limits than the input size. Malformed input ends in an {@link IOException}
 * whose message gives the byte offset.
 */
public final class BoundedBinaryDecoder extends Decoder {

  private final byte[] buffer;
  private final int end;
  private int position;

  public BoundedBinaryDecoder(byte[] buffer, int offset, int length) {
    if (offset < 0 || length < 0 || offset + length > buffer.length) {
      throw new IndexOutOfBoundsException("offset " + offset + " length " + length + " outside " + buffer.length);
    }
    this.buffer = buffer;
    this.position = offset;
    this.end = offset + length;
  }

  public int position() {
    return position;
  }

  public int remaining() {
    return end - position;
  }

  @Override
  public void readNull() {}

  @Override
  public boolean readBoolean() throws IOException {
    int at = position;
    byte b = next("boolean");
    if (b == 0) return false;
    if (b == 1) return true;
    throw new IOException("invalid boolean byte " + (b & 0xff) + " at offset " + at + " (must be 0 or 1)");
  }

  @Override
  public int readInt() throws IOException {
    int at = position;
    long value = readVarLong(5, "int");
    if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
      throw new IOException("int at offset " + at + " is out of range: " + value);
    }
    return (int) value;
  }

  @Override
  public long readLong() throws IOException {
    return readVarLong(10, "long");
  }

  @Override
  public float readFloat() throws IOException {
    require(4, "float");
    int bits = (buffer[position] & 0xff) | (buffer[position + 1] & 0xff) << 8
        | (buffer[position + 2] & 0xff) << 16 | (buffer[position + 3] & 0xff) << 24;
    position += 4;
    return Float.intBitsToFloat(bits);
  }

  @Override
  public double readDouble() throws IOException {
    require(8, "double");
    long bits = 0;
    for (int i = 7; i >= 0; i--) {
      bits = bits << 8 | (buffer[position + i] & 0xff);
    }
    position += 8;
    return Double.longBitsToDouble(bits);
  }

  @Override
  public Utf8 readString(Utf8 old) throws IOException {
    int length = SystemLimitException.checkMaxStringLength(readLength("string"));
    Utf8 result = old != null ? old : new Utf8();
    result.setByteLength(length);
    System.arraycopy(buffer, position, result.getBytes(), 0, length);
    position += length;
    return result;
  }

  @Override
  public String readString() throws IOException {
    int length = SystemLimitException.checkMaxStringLength(readLength("string"));
    String result = new String(buffer, position, length, StandardCharsets.UTF_8);
    position += length;
    return result;
  }

  @Override
  public void skipString() throws IOException {
    int length = readLength("string"); // read first: it moves position
    position += length;
  }

  @Override
  public ByteBuffer readBytes(ByteBuffer old) throws IOException {
    int length = SystemLimitException.checkMaxBytesLength(readLength("bytes"));
    byte[] copy = new byte[length];
    System.arraycopy(buffer, position, copy, 0, length);
    position += length;
    return ByteBuffer.wrap(copy);
  }

  @Override
  public void skipBytes() throws IOException {
    int length = readLength("bytes"); // read first: it moves position
    position += length;
  }

  @Override
  public void readFixed(byte[] bytes, int start, int length) throws IOException {
    require(length, "fixed");
    System.arraycopy(buffer, position, bytes, start, length);
    position += length;
  }

  @Override
  public void skipFixed(int length) throws IOException {
    require(length, "fixed");
    position += length;
  }

  @Override
  public int readEnum() throws IOException {
    return readInt();
  }

  @Override
  public long readArrayStart() throws IOException {
    return readBlockCount("array", 0);
  }

  @Override
  public long arrayNext() throws IOException {
    return readBlockCount("array", 0);
  }

  @Override
  public long skipArray() throws IOException {
    return skipSizedBlocks("array");
  }

  @Override
  public long readMapStart() throws IOException {
    return readBlockCount("map", 0);
  }

  @Override
  public long mapNext() throws IOException {
    return readBlockCount("map", 0);
  }

  @Override
  public long skipMap() throws IOException {
    return skipSizedBlocks("map");
  }

  @Override
  public int readIndex() throws IOException {
    return readInt();
  }

  /** Reads a block's item count; a negative count is followed by the block's size in bytes. */
  private long readBlockCount(String what, long itemsSoFar) throws IOException {
    int at = position;
    long count = readLong();
    if (count < 0) {
      if (count == Long.MIN_VALUE) {
        throw new IOException(what + " block count at offset " + at + " is out of range");
      }
      count = -count;
      readBlockSize(what, at);
    }
    if (count > remaining()) {
      throw new EOFException("truncated: " + what + " block at offset " + at + " announces " + count
          + " items but only " + remaining() + " bytes remain");
    }
    SystemLimitException.checkMaxCollectionLength(itemsSoFar, count);
    return count;
  }

  /** Skips whole blocks whose size is known; returns the item count of a block that must be skipped item by item, or 0 at the end. */
  private long skipSizedBlocks(String what) throws IOException {
    while (true) {
      int at = position;
      long count = readLong();
      if (count >= 0) {
        if (count > remaining()) {
          throw new EOFException("truncated: " + what + " block at offset " + at + " announces " + count
              + " items but only " + remaining() + " bytes remain");
        }
        return count;
      }
      if (count == Long.MIN_VALUE) {
        throw new IOException(what + " block count at offset " + at + " is out of range");
      }
      int size = readBlockSize(what, at); // read first: it moves position
      position += size;
    }
  }

  private int readBlockSize(String what, int blockOffset) throws IOException {
    long size = readLong();
    if (size < 0 || size > remaining()) {
      throw new EOFException("truncated: " + what + " block at offset " + blockOffset + " announces " + size
          + " bytes but only " + remaining() + " remain");
    }
    return (int) size;
  }

  /** Reads a length prefix and checks that many bytes follow. */
  private int readLength(String what) throws IOException {
    int at = position;
    long length = readLong();
    if (length < 0) {
      throw new IOException(what + " at offset " + at + " has a negative length " + length);
    }
    if (length > remaining()) {
      throw new EOFException("truncated: " + what + " at offset " + at + " announces " + length
          + " bytes but only " + remaining() + " remain");
    }
    return (int) length;
  }

  /** Zig-zag variable-length integer of at most maxBytes bytes. */
  private long readVarLong(int maxBytes, String what) throws IOException {
    int at = position;
    long raw = 0;
    for (int i = 0; i < maxBytes; i++) {
      byte b = next(what);
      raw |= (long) (b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1);
      }
    }
    throw new IOException("invalid " + what + " at offset " + at + ": more than " + maxBytes + " bytes");
  }

  private byte next(String what) throws EOFException {
    if (position >= end) {
      throw new EOFException("truncated: input ends at offset " + position + " where a " + what + " should start");
    }
    return buffer[position++];
  }

  private void require(int length, String what) throws EOFException {
    if (length > remaining()) {
      throw new EOFException("truncated: " + what + " at offset " + position + " needs " + length
          + " bytes but only " + remaining() + " remain");
    }
  }
}
