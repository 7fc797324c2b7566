package dev.similarity.schemas.wire;

import dev.similarity.schemas.CatalogueEvent;
import dev.similarity.schemas.WriterSchemas;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link AvroRecordCodec#readProblems}: what Avro's compatibility check lets through but resolution would misread. */
class ReadProblemsTest {

    private static final Schema JOB = CatalogueEvent.getClassSchema();

    /** The job's schema with {@code from} replaced by {@code to} in its JSON (once). */
    private static Schema edited(String from, String to) {
        String json = JOB.toString();
        assertThat(json).contains(from);
        return new Schema.Parser().parse(json.replaceFirst(java.util.regex.Pattern.quote(from), java.util.regex.Matcher.quoteReplacement(to)));
    }

    @Test
    void theJobsOwnAndItsKnownOlderSchemasHaveNoProblem() {
        assertThat(AvroRecordCodec.readProblems(JOB, JOB)).isEmpty();
        for (Schema writer : new Schema[] {WriterSchemas.BEFORE_EMBEDDING, WriterSchemas.WITHOUT_NEWER_FIELDS,
                WriterSchemas.AVAILABILITY_ON_SALE, WriterSchemas.PROMOTED_TYPES, WriterSchemas.UNION_CHANGES,
                WriterSchemas.WITH_FIELDS_THE_JOB_REMOVED}) {
            assertThat(AvroRecordCodec.readProblems(JOB, writer)).as(writer.toString()).isEmpty();
        }
    }

    @Test
    void aDecimalOfAnotherScaleIsAProblemNamingTheField() {
        Schema writer = edited("\"precision\":18,\"scale\":4", "\"precision\":18,\"scale\":2");

        assertThat(AvroRecordCodec.readProblems(JOB, writer)).singleElement().asString()
                .contains("CatalogueEvent.price.amount", "decimal(18,2)", "decimal(18,4)");
    }

    @Test
    void aPriceWrittenAsAStringIsAProblemThoughAvroPromotesStringToBytes() {
        Schema writer = edited("{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":18,\"scale\":4}", "\"string\"");

        assertThat(AvroRecordCodec.readProblems(JOB, writer)).singleElement().asString()
                .contains("price.amount", "plain string");
    }

    @Test
    void microsecondTimestampsAreAProblemAndMillisecondOnesAreNot() {
        Schema micros = edited("{\"name\":\"timestamp\",\"type\":\"long\"", "{\"name\":\"timestamp\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}");
        Schema millis = edited("{\"name\":\"timestamp\",\"type\":\"long\"", "{\"name\":\"timestamp\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}");

        assertThat(AvroRecordCodec.readProblems(JOB, micros)).singleElement().asString().contains("CatalogueEvent.timestamp", "timestamp-micros");
        assertThat(AvroRecordCodec.readProblems(JOB, millis)).isEmpty();
    }

    @Test
    void annotationsThatReadTheSameValuesAreNoProblem() {
        Schema uuid = edited("\"name\":\"eventId\",\"type\":{\"type\":\"string\"", "\"name\":\"eventId\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"");
        Schema narrower = edited("\"precision\":18,\"scale\":4", "\"precision\":10,\"scale\":4");
        Schema wider = edited("\"precision\":18,\"scale\":4", "\"precision\":20,\"scale\":4");

        assertThat(AvroRecordCodec.readProblems(JOB, uuid)).isEmpty();
        assertThat(AvroRecordCodec.readProblems(JOB, narrower)).isEmpty();
        assertThat(AvroRecordCodec.readProblems(JOB, wider)).singleElement().asString().contains("decimal(20,4)");
    }

    @Test
    void aCodecRefusesAWriterSchemaWithALogicalTypeProblemThoughItsFingerprintIsTheJobs() {
        Schema writer = edited("\"precision\":18,\"scale\":4", "\"precision\":18,\"scale\":2");

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> AvroRecordCodec.of(CatalogueEvent.class, AvroWireFormat.NAKED_BINARY, writer).readerSchema())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("price.amount");
    }
}
