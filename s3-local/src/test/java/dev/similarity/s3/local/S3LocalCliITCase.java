package dev.similarity.s3.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.local.LoopbackPorts;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
      Run start = run("start", "--data-dir", dataDir.toString(), "--port", port, "--bucket", "snaps");
      assertThat(start.exitCode).as(start.toString()).isEqualTo(S3LocalCli.OK);
      assertThat(start.out).as(start.toString()).startsWith("S3 started on " + endpoint)
          .contains("bucket:   snaps, objects in " + dataDir.resolve("buckets/snaps"))
          .contains("s3.endpoint: " + endpoint)
          .contains("--snapshot.dir s3://snaps/snapshots");
      long pid = LocalS3Server.attach(dataDir).orElseThrow().pid();

      Run again = run("start", "--data-dir", dataDir.toString(), "--port", port);
      assertThat(again.out).as(again.toString()).startsWith("S3 is already running on " + endpoint + " (pid " + pid + ")");

      Run status = run("status", "--data-dir", dataDir.toString(), "--port", port);
      assertThat(status.exitCode).as(status.toString()).isEqualTo(S3LocalCli.OK);
      assertThat(status.out).startsWith("running\n  pid:      " + pid).contains("s3.secret-key: " + LocalS3Server.DEFAULT_SECRET_KEY);

      Run stop = run("stop", "--data-dir", dataDir.toString());
      assertThat(stop.exitCode).isEqualTo(S3LocalCli.OK);
      assertThat(stop.out).startsWith("S3 on " + endpoint + " (pid " + pid + ") stopped");
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();

      Run after = run("status", "--data-dir", dataDir.toString(), "--port", port);
      assertThat(after.exitCode).as(after.toString()).isEqualTo(S3LocalCli.NOT_RUNNING);
    } finally {
      LocalS3Server.attach(dataDir).ifPresent(LocalS3Server::close); // a detached server outlives a failed test
    }
  }

  @Test
  void badUsageSaysWhatIsMissing() {
    Run noDir = run("start");
    assertThat(noDir.exitCode).isEqualTo(S3LocalCli.USAGE);
    assertThat(noDir.err).contains("--data-dir is missing");
    Run badPort = run("start", "--data-dir", dataDir.toString(), "--port", "nine");
    assertThat(badPort.exitCode).isEqualTo(S3LocalCli.USAGE);
    assertThat(badPort.err).contains("--port 'nine' is not a number");
  }

  private record Run(int exitCode, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exitCode = new S3LocalCli(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8)).run(args);
    return new Run(exitCode, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}
