package dev.similarity.flink;

import org.apache.flink.configuration.IllegalConfigurationException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/** Finds the committed model: {@code models/<name>/model.json} in the working directory or a parent of it. */
final class DefaultModelLocator {

    private DefaultModelLocator() {}

    static Path locate() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Optional<Path> model = modelUnder(dir.resolve("models"));
            if (model.isPresent()) {
                return model.get();
            }
        }
        throw new IllegalConfigurationException(IndexerOptions.MODEL_DIR.key()
                + " is not set and no models/*/model.json was found from " + Path.of("").toAbsolutePath()
                + "; set it to a folder with a SavedModel and model.json");
    }

    private static Optional<Path> modelUnder(Path models) {
        if (!Files.isDirectory(models)) {
            return Optional.empty();
        }
        try (Stream<Path> children = Files.list(models)) {
            return children.filter(dir -> Files.isRegularFile(dir.resolve("model.json"))).sorted().findFirst();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
