package dev.similarity.flink.catalogue;

import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileConstants;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.SeekableInput;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * One Avro object container file of catalogue events (what Divolte Collector and most batch exports
 * write), on any file system Flink reads ({@code file:}, {@code s3://} with Flink's S3 plugin, {@code hdfs://}),
 * read record by record and re-encoded as the job reads the catalogue topic.
 *
 * <p>Each record is resolved by Avro's rules from the file's writer schema (in its header) to the
 * schema the job decodes naked events with ({@code target}: the job's {@link CatalogueEvent} schema, or
 * the producers' schema named by {@code catalogue.writer-schema}), then written with that schema: fields
 * the file lacks take their defaults, fields the target lacks are dropped. {@link AvroWireFormat#SINGLE_OBJECT}
 * prefixes the target schema's fingerprint. So the bytes are the ones a producer of the target schema
 * would have sent.
 *
 * <p>Not thread-safe; close it.
 */
public final class CatalogueFile implements AutoCloseable, Iterator<CatalogueFile.Record> {

    /** One event: the Kafka key the job partitions by (the product id) and the value in the job's wire format. */
    public record Record(String productId, byte[] value) {}

    private final Path path;
    private final long size;
    private final DataFileReader<GenericRecord> reader;
    private final GenericDatumWriter<GenericRecord> writer;
    private final BinaryMessageEncoder<GenericRecord> singleObject;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(512);
    private BinaryEncoder encoder;
    private GenericRecord reuse;
    private long read;

    private CatalogueFile(Path path, long size, DataFileReader<GenericRecord> reader, Schema target, AvroWireFormat format) {
        this.path = path;
        this.size = size;
        this.reader = reader;
        this.writer = new GenericDatumWriter<>(target, GenericData.get());
        this.singleObject = format == AvroWireFormat.SINGLE_OBJECT ? new BinaryMessageEncoder<>(GenericData.get(), target) : null;
    }

    /**
     * Opens {@code path} and checks that its writer schema resolves to {@code target}; reads no record yet.
     *
     * @param target the schema the job reads naked events with; for {@link AvroWireFormat#SINGLE_OBJECT} the
     *               job's own {@link CatalogueEvent#getClassSchema()} (which every job knows)
     * @throws CatalogueFileException if the file cannot be opened or is not an Avro container file, or
     *                                {@code target} cannot be read from its writer schema
     *                                ({@link AvroRecordCodec#readProblems}, listed in the message)
     */
    public static CatalogueFile open(Path path, Schema target, AvroWireFormat format) {
        DataFileReader<GenericRecord> reader;
        long size;
        FileSystem fs;
        FSDataInputStream in = null;
        try {
            fs = path.getFileSystem();
            size = fs.getFileStatus(path).getLen();
            in = fs.open(path);
            // The file's header supplies the writer schema; the records are resolved to target.
            reader = new DataFileReader<>(new FlinkSeekableInput(in, size), new GenericDatumReader<>(target, target, GenericData.get()));
        } catch (IOException | RuntimeException e) {
            closeQuietly(in);
            throw new CatalogueFileException(path + ": not a readable Avro container file: " + e.getMessage(), e);
        }
        try {
            if (!endsWithItsSyncMarker(fs, path, reader.previousSync(), size)) {
                throw new CatalogueFileException(path + ": truncated: its " + size + " bytes do not end with the file's sync marker, as"
                        + " every complete block does (a partial copy, or a file still being written?)");
            }
            Schema written = reader.getSchema();
            List<String> problems = AvroRecordCodec.readProblems(target, written);
            if (!problems.isEmpty()) {
                throw new CatalogueFileException(path + ": its writer schema " + written.getFullName() + " cannot be read as the job's "
                        + target.getFullName() + ": " + String.join("; ", problems));
            }
            return new CatalogueFile(path, size, reader, target, format);
        } catch (RuntimeException e) {
            closeQuietly(reader);
            throw e;
        }
    }

    /** A local file: {@link #open(Path, Schema, AvroWireFormat)} on its {@code file:} URI. */
    public static CatalogueFile open(java.nio.file.Path path, Schema target, AvroWireFormat format) {
        return open(new Path(path.toAbsolutePath().toUri()), target, format);
    }

    /**
     * Whether the file's last bytes are its sync marker (the 16 bytes that end its header, {@code headerEnd}),
     * as they are when its last block was written whole.
     */
    private static boolean endsWithItsSyncMarker(FileSystem fs, Path path, long headerEnd, long size) {
        int marker = DataFileConstants.SYNC_SIZE;
        byte[] sync = new byte[marker];
        byte[] tail = new byte[marker];
        try (FSDataInputStream in = fs.open(path)) {
            in.seek(headerEnd - marker);
            readFully(in, sync);
            in.seek(size - marker);
            readFully(in, tail);
            return Arrays.equals(sync, tail);
        } catch (IOException e) {
            throw new CatalogueFileException(path + ": cannot be read: " + e.getMessage(), e);
        }
    }

    private static void readFully(FSDataInputStream in, byte[] into) throws IOException {
        for (int at = 0; at < into.length; ) {
            int n = in.read(into, at, into.length - at);
            if (n < 0) throw new EOFException("the file ended early");
            at += n;
        }
    }

    /** Avro's random access over a Flink file system stream (the reader seeks to blocks and to the end). */
    private record FlinkSeekableInput(FSDataInputStream in, long length) implements SeekableInput {
        @Override
        public void seek(long position) throws IOException {
            in.seek(position);
        }

        @Override
        public long tell() throws IOException {
            return in.getPos();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return in.read(b, off, len);
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    /** Records read so far. */
    public long recordsRead() {
        return read;
    }

    /** The file's size, and about how far into it reading got (bytes, at block granularity). */
    public long size() {
        return size;
    }

    public long position() {
        try {
            return reader.previousSync();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /**
     * @throws CatalogueFileException if the file is damaged, or ends inside a block or its sync marker
     *                                (Avro's reader takes that for a clean end): a truncated copy, or a file
     *                                still being written
     */
    @Override
    public boolean hasNext() {
        boolean more;
        try {
            more = reader.hasNext();
        } catch (RuntimeException | LinkageError e) { // LinkageError: the file's codec library is missing (xz)
            throw damaged(e);
        }
        if (!more && position() != size) {
            throw new CatalogueFileException(path + ": truncated after record " + read + ": its last complete block ends at byte "
                    + position() + " of " + size + " (a partial copy, or a file still being written?)");
        }
        return more;
    }

    /**
     * The next event, re-encoded.
     *
     * @throws CatalogueFileException if the file is damaged there (a block that cannot be read or decoded),
     *                                naming the file and how many records were read before it
     */
    @Override
    public Record next() {
        if (!hasNext()) throw new NoSuchElementException(path + ": no more records");
        try {
            reuse = reader.next(reuse);
        } catch (IOException | RuntimeException | LinkageError e) {
            throw damaged(e);
        }
        read++;
        Object productId = reuse.get("productId");
        return new Record(productId == null ? "" : productId.toString(), encode(reuse));
    }

    private byte[] encode(GenericRecord record) {
        try {
            if (singleObject != null) {
                ByteBuffer bytes = singleObject.encode(record);
                byte[] out = new byte[bytes.remaining()];
                bytes.get(out);
                return out;
            }
            buffer.reset();
            encoder = EncoderFactory.get().directBinaryEncoder(buffer, encoder);
            writer.write(record, encoder);
            encoder.flush();
            return buffer.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private CatalogueFileException damaged(Throwable e) {
        return new CatalogueFileException(path + ": damaged after record " + read + " (the block after byte " + position()
                + " cannot be read: " + e.getMessage() + ")", e);
    }

    @Override
    public void close() {
        try {
            reader.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void closeQuietly(Closeable closeable) {
        if (closeable == null) return;
        try {
            closeable.close();
        } catch (IOException ignored) {
            // the file is refused anyway
        }
    }

    /** A catalogue file that cannot be read as the job's events; the message names the file and what was read. */
    public static final class CatalogueFileException extends RuntimeException {
        public CatalogueFileException(String message, Throwable cause) {
            super(message, cause);
        }

        public CatalogueFileException(String message) {
            super(message);
        }
    }
}
