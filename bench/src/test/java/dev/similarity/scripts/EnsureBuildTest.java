package dev.similarity.scripts;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code ensure_build} of {@code scripts/lib/common.sh}, which every script calls first: it runs Maven
 * only when a source is newer than the last build. Run by bash on a copy of the script in a project of
 * its own, with a {@code mvn} on the PATH that only counts its calls.
 */
class EnsureBuildTest {

    private static final Instant BUILT = Instant.parse("2026-01-01T00:00:00Z");

    @TempDir
    Path project;

    private Path mvnCalls;

    @BeforeEach
    void copyScriptAndBuild() throws IOException {
        Path script = Path.of("..", "scripts", "lib", "common.sh");
        Files.createDirectories(project.resolve("scripts/lib"));
        Files.copy(script, project.resolve("scripts/lib/common.sh"));
        mvnCalls = project.resolve("mvn-calls");
        Path bin = Files.createDirectories(project.resolve("fake-bin"));
        Path mvn = Files.writeString(bin.resolve("mvn"), "#!/bin/sh\necho \"$*\" >> '" + mvnCalls + "'\n");
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        write("flink-jobs/src/main/java/Job.java", BUILT.minusSeconds(60));
        write("bench/target/runtime.classpath", BUILT);
    }

    @Test
    void filesTheBrokerAndTheClusterWriteUnderWorkAreNotSources() throws Exception {
        write("work/kafka/server.properties", BUILT.plusSeconds(60));
        write("work/flink/flink-local.properties", BUILT.plusSeconds(60));

        ensureBuildTwice(null);

        assertThat(mvnCalls).doesNotExist();
    }

    @Test
    void filesUnderVsiHomeAreNotSources() throws Exception {
        write("state/kafka/server.properties", BUILT.plusSeconds(60));

        ensureBuildTwice(project.resolve("state"));

        assertThat(mvnCalls).doesNotExist();
    }

    @Test
    void aChangedSourceIsBuiltOnceNotByEveryLaterScript() throws Exception {
        // Maven leaves runtime.classpath untouched when the class path is unchanged, as here.
        write("flink-jobs/src/main/java/Job.java", BUILT.plusSeconds(60));

        ensureBuildTwice(null);

        assertThat(Files.readAllLines(mvnCalls)).hasSize(1);
    }

    private void ensureBuildTwice(Path vsiHome) throws Exception {
        ProcessBuilder bash = new ProcessBuilder("bash", "-c",
                "source scripts/lib/common.sh && ensure_build && ensure_build").directory(project.toFile()).redirectErrorStream(true);
        bash.environment().put("PATH", project.resolve("fake-bin") + ":" + System.getenv("PATH"));
        bash.environment().remove("VSI_HOME");
        if (vsiHome != null) bash.environment().put("VSI_HOME", vsiHome.toString());
        Process process = bash.start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
    }

    private void write(String file, Instant modified) throws IOException {
        Path path = project.resolve(file);
        Files.createDirectories(path.getParent());
        Files.write(path, List.of("x"));
        Files.setLastModifiedTime(path, FileTime.from(modified));
    }
}
