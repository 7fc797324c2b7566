package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SearchServiceBuilderTest {

  @TempDir Path folder;

  @Test
  void refusesAServiceWithoutAStoreSayingWhatToGive() {
    assertThatThrownBy(() -> SearchService.builder().build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("store is required")
        .hasMessageContaining("s3://");
  }

  @Test
  void namesEveryOutOfRangeSettingAtOnce() {
    assertThatThrownBy(() -> SearchService.builder().store(folder.toString()).port(70_000).threads(0)
            .pollInterval(Duration.ofMillis(1)).searchCandidates(0).host(" ").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("port is 70000; it must be 0..65535")
        .hasMessageContaining("threads is 0")
        .hasMessageContaining("pollInterval is PT0.001S; it must be at least 10 ms")
        .hasMessageContaining("searchCandidates is 0")
        .hasMessageContaining("host is blank");
  }

  @Test
  void refusesAModelFolderWithoutASavedModel() {
    assertThatThrownBy(() -> SearchService.builder().store(folder.toString()).modelDir(folder).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("modelDir: modelDir " + folder)
        .hasMessageContaining("saved_model.pb");
  }

  @Test
  void refusesAModelsFolderWithoutAModelFolderInIt() {
    assertThatThrownBy(() -> SearchService.builder().store(folder.toString()).modelsDir(folder).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("modelsDir " + folder.toAbsolutePath() + " holds no model folder");
  }

  @Test
  void refusesAStoreOnAFileSystemFlinkDoesNotKnow() {
    assertThatThrownBy(() -> SearchService.builder().store("nosuchfs://bucket/snapshots").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("store: ")
        .hasMessageContaining("nosuchfs://bucket/snapshots");
  }

  @Test
  void refusesAPluginsFolderThatIsNoFolderAndSaysHowAnS3StoreGetsItsFileSystem() {
    assertThatThrownBy(() -> SearchService.builder().store("s3://bucket/snapshots")
            .pluginsDir(folder.resolve("no-such-folder")).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("pluginsDir " + folder.resolve("no-such-folder") + " is not a folder")
        .hasMessageContaining("s3-fs-presto/");
  }

  @Test
  void portInUseIsReportedWithTheSettingToChange() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      SearchService service = SearchService.builder().store(folder.toString()).port(taken.getLocalPort()).build();
      assertThatThrownBy(service::start)
          .isInstanceOf(java.io.UncheckedIOException.class)
          .hasMessageContaining("cannot listen on 127.0.0.1:" + taken.getLocalPort())
          .hasMessageContaining("--port");
    }
  }
}
