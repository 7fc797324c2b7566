package dev.similarity.flink.event;

import dev.similarity.flink.IndexerOptions;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The producers' CatalogueEvent writer schemas named by {@link IndexerOptions#CATALOGUE_WRITER_SCHEMA}
 * (naked binary) or {@link IndexerOptions#CATALOGUE_KNOWN_WRITER_SCHEMAS} (single-object), and the
 * codec that reads events with them.
 *
 * <p>Called at start-up, on the client: the files are read there once and travel inside the codec
 * (as schema JSON), so task managers need no access to them.
 */
public final class CatalogueWriterSchemas {

    private static final String SCHEMA_SUFFIX = ".avsc";

    private CatalogueWriterSchemas() {}

    /**
     * Reads the writer schemas the options name and builds the codec for
     * {@link IndexerOptions#CATALOGUE_WIRE_FORMAT}.
     *
     * @throws IllegalConfigurationException naming the option and the file when a schema file cannot be
     *     read or parsed, a folder holds no .avsc file, the job's CatalogueEvent cannot be resolved from
     *     a writer schema (with Avro's list of incompatibilities), or an option is set that the wire
     *     format does not use
     */
    public static AvroRecordCodec<CatalogueEvent> codec(Configuration options) {
        AvroWireFormat format = options.get(IndexerOptions.CATALOGUE_WIRE_FORMAT);
        String naked = options.getOptional(IndexerOptions.CATALOGUE_WRITER_SCHEMA).filter(s -> !s.isBlank()).orElse(null);
        List<String> known = options.getOptional(IndexerOptions.CATALOGUE_KNOWN_WRITER_SCHEMAS).orElse(List.of())
                .stream().filter(s -> !s.isBlank()).toList();
        if (format == AvroWireFormat.NAKED_BINARY) {
            if (!known.isEmpty()) {
                throw notForThisFormat(IndexerOptions.CATALOGUE_KNOWN_WRITER_SCHEMAS, format, "naked events carry no schema"
                        + " fingerprint to choose a schema by; give the producers' one schema in " + IndexerOptions.CATALOGUE_WRITER_SCHEMA.key());
            }
            if (naked == null) {
                return AvroRecordCodec.of(CatalogueEvent.class, format);
            }
            return resolvable(IndexerOptions.CATALOGUE_WRITER_SCHEMA, format, read(IndexerOptions.CATALOGUE_WRITER_SCHEMA, naked));
        }
        if (naked != null) {
            throw notForThisFormat(IndexerOptions.CATALOGUE_WRITER_SCHEMA, format, "single-object events name their schema by"
                    + " fingerprint; list the producers' schemas in " + IndexerOptions.CATALOGUE_KNOWN_WRITER_SCHEMAS.key());
        }
        List<Schema> schemas = new ArrayList<>();
        for (String location : known) {
            for (SchemaFile file : readAll(IndexerOptions.CATALOGUE_KNOWN_WRITER_SCHEMAS, location)) {
                resolvable(IndexerOptions.CATALOGUE_KNOWN_WRITER_SCHEMAS, format, file); // names the file that fails
                schemas.add(file.schema());
            }
        }
        return AvroRecordCodec.of(CatalogueEvent.class, format, schemas);
    }

    private record SchemaFile(String location, Schema schema) {}

    private static AvroRecordCodec<CatalogueEvent> resolvable(ConfigOption<?> option, AvroWireFormat format, SchemaFile file) {
        try {
            return AvroRecordCodec.of(CatalogueEvent.class, format, file.schema());
        } catch (IllegalArgumentException e) {
            throw new IllegalConfigurationException(option.key() + ": the writer schema in " + file.location()
                    + " cannot be used: " + e.getMessage(), e);
        }
    }

    /** The schema in one file, or in every .avsc file of a folder, by name. */
    private static List<SchemaFile> readAll(ConfigOption<?> option, String location) {
        Path path = new Path(location.trim());
        FileStatus[] children;
        try {
            FileSystem fs = path.getFileSystem();
            if (!fs.getFileStatus(path).isDir()) {
                return List.of(read(option, location));
            }
            children = fs.listStatus(path);
        } catch (IOException e) {
            throw unreadable(option, location, e);
        }
        List<SchemaFile> files = new ArrayList<>();
        Arrays.stream(children == null ? new FileStatus[0] : children)
                .filter(child -> !child.isDir() && child.getPath().getName().endsWith(SCHEMA_SUFFIX))
                .sorted(Comparator.comparing(child -> child.getPath().getName()))
                .forEach(child -> files.add(read(option, child.getPath().toString())));
        if (files.isEmpty()) {
            throw new IllegalConfigurationException(option.key() + ": the folder " + location + " holds no "
                    + SCHEMA_SUFFIX + " file");
        }
        return files;
    }

    private static SchemaFile read(ConfigOption<?> option, String location) {
        Path path = new Path(location.trim());
        try {
            FileSystem fs = path.getFileSystem();
            if (fs.getFileStatus(path).isDir()) {
                throw new IllegalConfigurationException(option.key() + ": " + location + " is a folder; give the "
                        + SCHEMA_SUFFIX + " file of the producers' schema");
            }
            try (FSDataInputStream in = fs.open(path)) {
                return new SchemaFile(location, new Schema.Parser().parse(in));
            }
        } catch (IOException e) {
            throw unreadable(option, location, e);
        } catch (SchemaParseException e) {
            throw new IllegalConfigurationException(option.key() + ": " + location + " is not an Avro schema: "
                    + e.getMessage(), e);
        }
    }

    private static IllegalConfigurationException unreadable(ConfigOption<?> option, String location, IOException e) {
        return new IllegalConfigurationException(option.key() + ": cannot read the writer schema " + location + ": "
                + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage()), e);
    }

    private static IllegalConfigurationException notForThisFormat(ConfigOption<?> option, AvroWireFormat format, String why) {
        return new IllegalConfigurationException(option.key() + " is set, but " + IndexerOptions.CATALOGUE_WIRE_FORMAT.key()
                + " is " + format + ": " + why);
    }
}
