package dev.similarity.flink;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's option table is what users read: it must be the one generated from IndexerOptions. */
class ReadmeOptionsTest {

    @Test
    void readmeListsEveryOptionWithItsDefaultAndDescription() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        for (String row : IndexerConfig.describeOptions().split("\n")) {
            assertThat(readme).as("README.md row; regenerate the table with IndexerConfig's main").contains(row);
        }
    }
}
