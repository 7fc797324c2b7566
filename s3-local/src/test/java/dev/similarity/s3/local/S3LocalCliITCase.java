package dev.similarity.s3.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.local.CliRun;
import dev.similarity.local.LoopbackPorts;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** start / status / stop as scripts/s3-local runs them, against a real detached server. */
class S3LocalCliITCase {

  @TempDir Path dataDir;

  @Test
  void startsOnceReportsStatusWithTheSettingsToUseAndStops() {
    String port = Integer.toString(LoopbackPorts.pickFree());
    String endpoint = "http://127.0.0.1:" + port;
    try {
      CliRun start = run("start", "--data-dir", dataDir.toString(), "--port", port, "--bucket", "snaps");
      assertThat(start.exitCode()).as(start.toString()).isEqualTo(S3LocalCli.OK);
      assertThat(start.out()).as(start.toString()).startsWith("S3 started on " + endpoint)
          .contains("bucket:   snaps, objects in " + dataDir.resolve("buckets/snaps"))
          .contains("s3.endpoint: " + endpoint)
          .contains("--snapshot.dir s3://snaps/snapshots");
      long pid = LocalS3Server.attach(dataDir).orElseThrow().pid();

      CliRun again = run("start", "--data-dir", dataDir.toString(), "--port", port);
      assertThat(again.out()).as(again.toString()).startsWith("S3 is already running on " + endpoint + " (pid " + pid + ")");

      CliRun status = run("status", "--data-dir", dataDir.toString(), "--port", port);
      assertThat(status.exitCode()).as(status.toString()).isEqualTo(S3LocalCli.OK);
      assertThat(status.out()).startsWith("running\n  pid:      " + pid).contains("s3.secret-key: " + LocalS3Server.DEFAULT_SECRET_KEY);

      CliRun stop = run("stop", "--data-dir", dataDir.toString());
      assertThat(stop.exitCode()).isEqualTo(S3LocalCli.OK);
      assertThat(stop.out()).startsWith("S3 on " + endpoint + " (pid " + pid + ") stopped");
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();

      CliRun after = run("status", "--data-dir", dataDir.toString(), "--port", port);
      assertThat(after.exitCode()).as(after.toString()).isEqualTo(S3LocalCli.NOT_RUNNING);
    } finally {
      LocalS3Server.attach(dataDir).ifPresent(LocalS3Server::close); // a detached server outlives a failed test
    }
  }

  @Test
  void badUsageSaysWhatIsMissing() {
    CliRun noDir = run("start");
    assertThat(noDir.exitCode()).isEqualTo(S3LocalCli.USAGE);
    assertThat(noDir.err()).contains("--data-dir is missing");
    CliRun badPort = run("start", "--data-dir", dataDir.toString(), "--port", "nine");
    assertThat(badPort.exitCode()).isEqualTo(S3LocalCli.USAGE);
    assertThat(badPort.err()).contains("--port 'nine' is not a number");
  }

  private static CliRun run(String... args) {
    return CliRun.of((out, err) -> new S3LocalCli(out, err)::run, args);
  }
}
