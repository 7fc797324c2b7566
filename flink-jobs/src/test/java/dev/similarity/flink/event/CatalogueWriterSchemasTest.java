package dev.similarity.flink.event;

import dev.similarity.flink.IndexerConfig;
import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.WriterSchemas;
import dev.similarity.schemas.wire.AvroRecordCodec;
import dev.similarity.schemas.wire.AvroWireFormat;
import org.apache.avro.Schema;
import org.apache.flink.configuration.IllegalConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The producers' writer schemas are read and checked when the job starts, and a bad one stops it there. */
class CatalogueWriterSchemasTest {

    @TempDir
    Path dir;

    @Test
    void anIncompatibleNakedWriterSchemaStopsTheJobAtStartUpNamingOptionFileAndIncompatibility() throws Exception {
        String file = avsc(dir, "archived", WriterSchemas.KIND_ARCHIVED);

        assertThatThrownBy(() -> IndexerConfig.from(Map.of("catalogue.writer-schema", file)))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("catalogue.writer-schema")
                .hasMessageContaining(file)
                .hasMessageContaining("cannot be read as dev.similarity.schemas.CatalogueEvent")
                .hasMessageContaining("ARCHIVED")
                .hasMessageContaining("at kind");
    }

    @Test
    void anIncompatibleSchemaInAKnownSchemasFolderStopsTheJobNamingThatFile() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("producers"));
        avsc(folder, "a-fine", WriterSchemas.PROMOTED_TYPES);
        String bad = avsc(folder, "b-archived", WriterSchemas.KIND_ARCHIVED);

        assertThatThrownBy(() -> IndexerConfig.from(Map.of("catalogue.wire-format", "SINGLE_OBJECT",
                        "catalogue.known-writer-schemas", folder.toString())))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("catalogue.known-writer-schemas")
                .hasMessageContaining(bad.substring(bad.lastIndexOf('/')))
                .hasMessageContaining(AvroRecordCodec.fingerprintHex(WriterSchemas.KIND_ARCHIVED))
                .hasMessageContaining("ARCHIVED");
    }

    @Test
    void aTypeChangeAvroCannotPromoteIsRefusedNamingTheField() throws Exception {
        String file = avsc(dir, "numeric-id", WriterSchemas.PRODUCT_ID_LONG);

        assertThatThrownBy(() -> IndexerConfig.from(Map.of("catalogue.writer-schema", file)))
                .hasMessageContaining("catalogue.writer-schema")
                .hasMessageContaining("at productId");
    }

    @Test
    void anUnreadableWriterSchemaStopsTheJobAtStartUp() throws Exception {
        String missing = dir.resolve("missing.avsc").toString();
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("catalogue.writer-schema", missing)))
                .isInstanceOf(IllegalConfigurationException.class)
                .hasMessageContaining("catalogue.writer-schema: cannot read the writer schema " + missing);

        Path notAvro = Files.writeString(dir.resolve("broken.avsc"), "{\"type\": \"record\", \"name\": ");
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("catalogue.writer-schema", notAvro.toString())))
                .hasMessageContaining("catalogue.writer-schema: " + notAvro + " is not an Avro schema");

        assertThatThrownBy(() -> IndexerConfig.from(Map.of("catalogue.writer-schema", dir.toString())))
                .hasMessageContaining(dir + " is a folder");

        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("catalogue.wire-format", "SINGLE_OBJECT",
                        "catalogue.known-writer-schemas", empty.toString())))
                .hasMessageContaining("catalogue.known-writer-schemas: the folder " + empty + " holds no .avsc file");
    }

    @Test
    void anOptionTheWireFormatDoesNotUseIsRefusedRatherThanIgnored() throws Exception {
        String file = avsc(dir, "narrow", WriterSchemas.PROMOTED_TYPES);

        assertThatThrownBy(() -> IndexerConfig.from(Map.of("catalogue.wire-format", "SINGLE_OBJECT", "catalogue.writer-schema", file)))
                .hasMessageContaining("catalogue.writer-schema is set, but catalogue.wire-format is SINGLE_OBJECT")
                .hasMessageContaining("catalogue.known-writer-schemas");
        assertThatThrownBy(() -> IndexerConfig.from(Map.of("catalogue.known-writer-schemas", file)))
                .hasMessageContaining("catalogue.known-writer-schemas is set, but catalogue.wire-format is NAKED_BINARY");
    }

    @Test
    void aWriterSchemaMayBeGivenAsAFileUri() throws Exception {
        Path file = Path.of(avsc(dir, "narrow", WriterSchemas.PROMOTED_TYPES));

        AvroRecordCodec<CatalogueEvent> codec = IndexerConfig.from(Map.of("catalogue.writer-schema", file.toUri().toString()))
                .catalogueEventCodec();

        assertThat(codec.format()).isEqualTo(AvroWireFormat.NAKED_BINARY);
        assertThat(codec.writerSchemas()).containsExactly(WriterSchemas.PROMOTED_TYPES);
    }

    @Test
    void withoutWriterSchemaOptionsTheJobReadsItsOwnSchema() {
        assertThat(IndexerConfig.from(Map.of()).catalogueEventCodec().writerSchemas())
                .containsExactly(CatalogueEvent.getClassSchema());
        assertThat(IndexerConfig.from(Map.of("catalogue.wire-format", "SINGLE_OBJECT")).catalogueEventCodec().writerSchemas())
                .containsExactly(CatalogueEvent.getClassSchema());
    }

    static String avsc(Path folder, String name, Schema schema) throws Exception {
        return Files.writeString(folder.resolve(name + ".avsc"), schema.toString(true)).toString();
    }
}
