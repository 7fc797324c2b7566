package dev.similarity.embedding.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/** Runs a command from a test (npm, node, a script), its output copied into the test's output. */
public final class ChildCommands {

    private ChildCommands() {}

    /**
     * Runs {@code command} and fails the test, naming {@code needs}, if it cannot start, runs over
     * {@code timeoutSeconds} or exits non-zero. Not inheritIO: a forked test JVM's own stdout is the
     * Surefire/Failsafe channel, and a child writing to it directly fails the build ("Corrupted channel").
     */
    public static void run(List<String> command, long timeoutSeconds, String needs) throws Exception {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            fail("cannot run " + command.get(0) + " (" + e.getMessage() + "): " + needs);
            return;
        }
        Thread copy = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader lines = process.inputReader()) {
                lines.lines().forEach(System.out::println);
            } catch (IOException e) {
                System.out.println("(output of " + command.get(0) + " cut: " + e.getMessage() + ")");
            }
        });
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(String.join(" ", command) + " ran over " + timeoutSeconds + " s");
        }
        copy.join(5_000);
        if (process.exitValue() != 0) {
            fail(String.join(" ", command) + " exited with " + process.exitValue() + " (its messages are above; " + needs + ")");
        }
    }

    /** The checkout's root: the first folder above the working directory with {@code scripts/keras/package.json}. */
    public static Path projectRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("scripts/keras/package.json"))) return dir;
        }
        throw new IllegalStateException("no scripts/keras/package.json above " + Path.of("").toAbsolutePath());
    }
}
