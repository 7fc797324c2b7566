package dev.similarity.flink.fetch;

import dev.similarity.flink.fetch.ImageFetchException.Code;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageFetcherFileUrlTest {

    @TempDir
    Path dir;

    private ImageFetcher fetcher(Path root) {
        return new ImageFetcher(FetchSettings.builder().fileRoot(root).maxBytes(1024).timeout(Duration.ofSeconds(2))
                .readTimeout(Duration.ofSeconds(1)).connectTimeout(Duration.ofSeconds(1)).build());
    }

    private static String refusalOf(ImageFetcher fetcher, String url) {
        try {
            fetcher.fetch(url);
            throw new AssertionError("fetched " + url);
        } catch (ImageFetchException e) {
            assertThat(e.code()).isEqualTo(Code.FILE_REFUSED);
            assertThat(e.retryable()).isFalse();
            return e.getMessage().replace(url, "<url>");
        }
    }

    @Test
    void readsRegularFilesBelowTheRoot() throws Exception {
        Path root = Files.createDirectories(dir.resolve("images"));
        Files.write(root.resolve("a.png"), new byte[] {1, 2, 3});
        try (ImageFetcher fetcher = fetcher(root)) {
            assertThat(fetcher.fetch(root.resolve("a.png").toUri().toString())).containsExactly(1, 2, 3);
        }
    }

    @Test
    void everyRefusalSaysTheSameAndRevealsNoPath() throws Exception {
        Path root = Files.createDirectories(dir.resolve("images"));
        Path secret = Files.write(dir.resolve("secret.png"), new byte[] {9});
        Files.createSymbolicLink(root.resolve("link-out.png"), secret);
        Files.createSymbolicLink(root.resolve("link-missing.png"), dir.resolve("nowhere.png"));
        Files.createDirectories(root.resolve("folder"));
        try (ImageFetcher fetcher = fetcher(root)) {
            String outsideExisting = refusalOf(fetcher, secret.toUri().toString());
            String outsideMissing = refusalOf(fetcher, dir.resolve("missing.png").toUri().toString());
            String linkOut = refusalOf(fetcher, root.resolve("link-out.png").toUri().toString());
            String linkMissing = refusalOf(fetcher, root.resolve("link-missing.png").toUri().toString());
            String insideMissing = refusalOf(fetcher, root.resolve("missing.png").toUri().toString());
            String folder = refusalOf(fetcher, root.resolve("folder").toUri().toString());
            String dotDot = refusalOf(fetcher, "file://" + root + "/../secret.png");
            assertThat(java.util.List.of(outsideMissing, linkOut, linkMissing, insideMissing, folder, dotDot)).allSatisfy(m -> assertThat(m).isEqualTo(outsideExisting));
            assertThat(outsideExisting).doesNotContain(dir.toString());
        }
    }

    @Test
    void aFifoInsideTheRootIsRefusedWithoutBlocking() throws Exception {
        Path root = Files.createDirectories(dir.resolve("images"));
        Path fifo = root.resolve("pipe.png");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        try (ImageFetcher fetcher = fetcher(root)) {
            long start = System.nanoTime();
            refusalOf(fetcher, fifo.toUri().toString());
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
        }
    }

    @Test
    void fileUrlsAreOffWithoutARoot() {
        try (ImageFetcher fetcher = new ImageFetcher(FetchSettings.builder().build())) {
            assertThatThrownBy(() -> fetcher.fetch("file:///etc/passwd")).isInstanceOf(ImageFetchException.class)
                    .hasMessageContaining("file: URLs are off");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
