package dev.similarity.s3.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FSDataOutputStream;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.FileSystem.WriteMode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server as Flink's S3 file system (flink-s3-fs-presto, on this test's class path) sees it:
 * objects written through s3:// are files in the bucket's folder, signatures are checked, and a
 * restart on the same data directory keeps the objects and the endpoint.
 */
class LocalS3ServerITCase {

  @TempDir Path dataDir;

  @AfterEach
  void resetFileSystems() {
    FileSystem.initialize(new Configuration(), null);
  }

  private static FileSystem s3(Map<String, String> settings, String uri) throws IOException {
    FileSystem.initialize(Configuration.fromMap(settings), null);
    return new org.apache.flink.core.fs.Path(uri).getFileSystem();
  }

  @Test
  void objectsWrittenThroughFlinksS3FileSystemAreFilesInTheBucketFolder() throws Exception {
    try (LocalS3Server server = LocalS3Server.builder().dataDir(dataDir).build().start()) {
      assertThat(server.endpoint()).startsWith("http://127.0.0.1:");
      assertThat(server.flinkSettings()).containsEntry("s3.endpoint", server.endpoint())
          .containsEntry("s3.path.style.access", "true").containsEntry("s3.access-key", LocalS3Server.DEFAULT_ACCESS_KEY);
      FileSystem fs = s3(server.flinkSettings(), server.uri("snapshots"));
      var object = new org.apache.flink.core.fs.Path(server.uri("snapshots/shard-0000/manifests/7.json"));
      try (FSDataOutputStream out = fs.create(object, WriteMode.NO_OVERWRITE)) {
        out.write("{\"checkpointId\": 7}".getBytes(StandardCharsets.UTF_8));
      }

      try (FSDataInputStream in = fs.open(object)) {
        assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("{\"checkpointId\": 7}");
      }
      FileStatus[] listed = fs.listStatus(new org.apache.flink.core.fs.Path(server.uri("snapshots/shard-0000/manifests")));
      assertThat(Arrays.stream(listed).map(s -> s.getPath().getName())).containsExactly("7.json");
      Path file = server.bucketDir().resolve("snapshots/shard-0000/manifests/7.json");
      assertThat(file).hasContent("{\"checkpointId\": 7}");
      assertThat(server.bucketDir()).isEqualTo(dataDir.resolve("buckets").resolve(LocalS3Server.DEFAULT_BUCKET));
    }
  }

  @Test
  void requestsSignedWithAnotherSecretAreRefused() throws Exception {
    try (LocalS3Server server = LocalS3Server.builder().build().start()) {
      Map<String, String> wrong = new HashMap<>(server.flinkSettings());
      wrong.put("s3.secret-key", "not-the-secret");
      // The S3 client retries a refusal for minutes by default.
      wrong.put("s3.max-client-retries", "0");
      wrong.put("s3.max-error-retries", "0");
      FileSystem fs = s3(wrong, server.uri(""));

      assertThatThrownBy(() -> {
        try (FSDataOutputStream out = fs.create(new org.apache.flink.core.fs.Path(server.uri("x")), WriteMode.OVERWRITE)) {
          out.write(1);
        }
      }).hasStackTraceContaining("403");
      assertThat(server.bucketDir()).isEmptyDirectory();
    }
  }

  @Test
  void aRestartOnTheSameDataDirKeepsObjectsAndPortAndATemporaryOneIsDeleted() throws Exception {
    int port;
    try (LocalS3Server first = LocalS3Server.builder().dataDir(dataDir).build().start()) {
      port = first.port();
      Files.writeString(first.bucketDir().resolve("kept.txt"), "kept");
    }
    try (LocalS3Server second = LocalS3Server.builder().dataDir(dataDir).build().start()) {
      assertThat(second.port()).isEqualTo(port);
      FileSystem fs = s3(second.flinkSettings(), second.uri(""));
      try (FSDataInputStream in = fs.open(new org.apache.flink.core.fs.Path(second.uri("kept.txt")))) {
        assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("kept");
      }
    }
    Path temporary;
    try (LocalS3Server server = LocalS3Server.builder().build().start()) {
      temporary = server.dataDir();
      assertThat(LocalS3Server.attach(temporary)).isPresent();
    }
    assertThat(temporary).doesNotExist();
  }
}
