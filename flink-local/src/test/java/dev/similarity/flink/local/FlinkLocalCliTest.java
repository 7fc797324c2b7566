package dev.similarity.flink.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.local.CliRun;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Usage errors of scripts/flink-local, scripts/submit-job and scripts/stop-job, before anything starts. */
class FlinkLocalCliTest {

  @TempDir Path workDir;

  @Test
  void withoutArgumentsPrintsUsage() {
    CliRun run = Clis.flinkLocal();
    assertThat(run.exitCode()).isEqualTo(FlinkLocalCli.USAGE);
    assertThat(run.err()).startsWith("usage: FlinkLocalCli start|stop|status|add-taskmanager");
  }

  @Test
  void refusesAMissingWorkDirAndANonNumericPort() {
    CliRun noDir = Clis.flinkLocal("start");
    assertThat(noDir.exitCode()).isEqualTo(FlinkLocalCli.USAGE);
    assertThat(noDir.err()).startsWith("--work-dir is missing");

    CliRun badPort = Clis.flinkLocal("start", "--work-dir", workDir.toString(), "--rest-port", "eighty");
    assertThat(badPort.exitCode()).isEqualTo(FlinkLocalCli.USAGE);
    assertThat(badPort.err()).startsWith("--rest-port 'eighty' is not a number (FLINK_REST_PORT for scripts/flink-local)");
  }

  @Test
  void refusesHalfAnS3CredentialAndS3OptionsOutsideStart() {
    CliRun half = Clis.flinkLocal("start", "--work-dir", workDir.toString(), "--s3-endpoint", "http://127.0.0.1:9000",
        "--s3-access-key", "k");
    assertThat(half.exitCode()).isEqualTo(FlinkLocalCli.USAGE);
    assertThat(half.err()).startsWith("give both --s3-access-key and --s3-secret-key, or neither");

    CliRun status = Clis.flinkLocal("status", "--work-dir", workDir.toString(), "--s3-endpoint", "http://127.0.0.1:9000");
    assertThat(status.exitCode()).isEqualTo(FlinkLocalCli.USAGE);
    assertThat(status.err()).startsWith("--s3-* options configure a cluster being started");
  }

  @Test
  void refusesAnUnknownCommand() {
    CliRun run = Clis.flinkLocal("restart", "--work-dir", workDir.toString());
    assertThat(run.exitCode()).isEqualTo(FlinkLocalCli.USAGE);
    assertThat(run.err()).startsWith("unknown command 'restart'");
  }

  @Test
  void badSettingsFailBeforeAnyProcessStarts() {
    CliRun run = Clis.flinkLocal("start", "--work-dir", workDir.toString(), "--taskmanagers", "0");
    assertThat(run.exitCode()).isEqualTo(FlinkLocalCli.FAILED);
    assertThat(run.err()).isEqualTo("error: taskManagers is 0; use 1-16\n");
  }

  @Test
  void statusAndStopOfAClusterThatNeverRan() {
    CliRun status = Clis.flinkLocal("status", "--work-dir", workDir.toString());
    assertThat(status.exitCode()).isEqualTo(FlinkLocalCli.NOT_RUNNING);
    assertThat(status.out()).startsWith("not running");

    CliRun stop = Clis.flinkLocal("stop", "--work-dir", workDir.toString());
    assertThat(stop.exitCode()).isEqualTo(FlinkLocalCli.OK);
    assertThat(stop.out()).startsWith("Flink is not running");

    CliRun add = Clis.flinkLocal("add-taskmanager", "--work-dir", workDir.toString());
    assertThat(add.exitCode()).isEqualTo(FlinkLocalCli.FAILED);
    assertThat(add.err()).contains("start it with scripts/flink-local start");
  }

  @Test
  void submitJobNeedsTheClusterAndTheJar() {
    CliRun noCluster = Clis.flinkJob("submit", "--jar", "job.jar");
    assertThat(noCluster.exitCode()).isEqualTo(FlinkJobCli.USAGE);
    assertThat(noCluster.err()).startsWith("--cluster is missing");

    CliRun noJar = Clis.flinkJob("submit", "--cluster", "http://127.0.0.1:8081");
    assertThat(noJar.exitCode()).isEqualTo(FlinkJobCli.USAGE);
    assertThat(noJar.err()).startsWith("--jar is missing");
  }

  @Test
  void submitJobSaysWhereJobArgumentsGo() {
    CliRun run = Clis.flinkJob("submit", "--cluster", "http://127.0.0.1:8081", "--jar", "job.jar", "--products", "10");
    assertThat(run.exitCode()).isEqualTo(FlinkJobCli.USAGE);
    assertThat(run.err()).startsWith("unexpected argument '--products' (job arguments go after '--')");
  }

  @Test
  void submitJobRefusesANonPositiveParallelism() {
    CliRun run = Clis.flinkJob("submit", "--cluster", "http://127.0.0.1:8081", "--jar", "job.jar", "--parallelism", "0");
    assertThat(run.exitCode()).isEqualTo(FlinkJobCli.USAGE);
    assertThat(run.err()).startsWith("--parallelism '0' is not a positive whole number");
  }

  @Test
  void stopJobNeedsTheJobId() {
    CliRun run = Clis.flinkJob("stop", "--cluster", "http://127.0.0.1:8081", "--savepoint-dir", "/tmp/sp");
    assertThat(run.exitCode()).isEqualTo(FlinkJobCli.USAGE);
    assertThat(run.err()).startsWith("--job is missing");
  }
}
