package dev.similarity.s3.local;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings are checked in build(), before any process starts. */
class LocalS3ServerBuilderTest {

  @TempDir Path tempDir;

  @Test
  void refusesABucketNameS3WouldRefuse() {
    for (String bad : new String[] {"Snapshots", "ab", "-bucket", "a..b", "bucket_1"}) {
      assertThatThrownBy(() -> LocalS3Server.builder().bucket(bad).build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("bucket is '" + bad + "'; an S3 bucket name has 3-63 lowercase letters");
    }
  }

  @Test
  void refusesPortsOutOfRangeAndHeapsThatAreNoJvmSize() {
    assertThatThrownBy(() -> LocalS3Server.builder().port(70_000).build())
        .hasMessageContaining("port is 70000; use 1-65535, or 0 for a free port");
    assertThatThrownBy(() -> LocalS3Server.builder().heap("-Xmx1g").build())
        .hasMessageContaining("heap is '-Xmx1g'; give a JVM size such as 256m");
  }

  @Test
  void refusesCredentialsWithSpacesWithoutRepeatingTheSecret() {
    assertThatThrownBy(() -> LocalS3Server.builder().accessKey("a key").build()).hasMessageContaining("accessKey is 'a key'");
    assertThatThrownBy(() -> LocalS3Server.builder().secretKey("a secret").build())
        .hasMessageContaining("secretKey is not")
        .satisfies(e -> org.assertj.core.api.Assertions.assertThat(e.getMessage()).doesNotContain("a secret"));
  }

  @Test
  void refusesADetachedServerWithoutDataDirAndNonPositiveTimeouts() {
    assertThatThrownBy(() -> LocalS3Server.builder().detached(true).build()).hasMessageContaining("detached(true) needs dataDir(...)");
    assertThatThrownBy(() -> LocalS3Server.builder().startupTimeout(Duration.ZERO).build())
        .hasMessageContaining("startupTimeout is PT0S; it must be positive");
  }

  @Test
  void refusesALibDirWithoutS3ProxySayingHowToBuildIt() {
    assertThatThrownBy(() -> LocalS3Server.builder().proxyLibDir(tempDir).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("holds no s3proxy-*.jar")
        .hasMessageContaining("mvn -pl s3-local install -DskipTests");
  }
}
