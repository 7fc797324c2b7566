package dev.similarity.flink.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.similarity.local.CliRun;
import dev.similarity.local.LoopbackPorts;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/flink-local, scripts/submit-job and scripts/stop-job as a person runs them: a detached
 * cluster started, found again, given a job, a TaskManager more, a stop with a savepoint, stopped.
 */
class FlinkLocalCliITCase {

  private static final Pattern JOB_ID = Pattern.compile("job ([0-9a-f]{32}) submitted");

  @TempDir Path tempDir;

  @Test
  void startStatusSubmitStopWithSavepointAddTaskManagerAndStop() throws Exception {
    Path workDir = tempDir.resolve("flink");
    String restPort = Integer.toString(LoopbackPorts.pickFree());
    String url = "http://127.0.0.1:" + restPort;
    try {
      CliRun start = Clis.flinkLocal("start", "--work-dir", workDir.toString(), "--rest-port", restPort,
          "--taskmanagers", "1", "--prometheus-port", "0");
      assertThat(start.exitCode()).as(start.toString()).isEqualTo(FlinkLocalCli.OK);
      assertThat(start.out()).as(start.toString()).startsWith("Flink started in ").contains("web UI and REST API " + url)
          .contains("taskmanager-0: pid ");
      LocalFlinkCluster cluster = LocalFlinkCluster.attach(workDir).orElseThrow();
      long jobManagerPid = cluster.jobManager().orElseThrow().pid();

      CliRun again = Clis.flinkLocal("start", "--work-dir", workDir.toString(), "--rest-port", restPort);
      assertThat(again.exitCode()).isEqualTo(FlinkLocalCli.OK);
      assertThat(again.out()).startsWith("Flink is already running: web UI " + url).contains("pid " + jobManagerPid);

      CliRun status = Clis.flinkLocal("status", "--work-dir", workDir.toString());
      assertThat(status.exitCode()).as(status.toString()).isEqualTo(FlinkLocalCli.OK);
      assertThat(status.out()).startsWith("running: web UI " + url + "\n  registered: 1 TaskManagers, 2 of 2 slots free");

      Path jar = TestJobJar.build(tempDir.resolve("counting-job.jar"));
      CliRun submit = Clis.flinkJob("submit", "--cluster", url, "--jar", jar.toString(), "--parallelism", "2",
          "--", "--records", "0", "--sleep-ms", "5");
      assertThat(submit.exitCode()).as(submit.toString()).isEqualTo(FlinkJobCli.OK);
      Matcher jobId = JOB_ID.matcher(submit.out());
      assertThat(jobId.find()).as(submit.toString()).isTrue();
      FlinkRestClient rest = new FlinkRestClient(url);
      rest.awaitJob(jobId.group(1), "running", FlinkRestClient.JobInfo::fullyRunning, Duration.ofSeconds(90));
      CliRun jobStatus = Clis.flinkJob("status", "--cluster", url, "--job", jobId.group(1));
      assertThat(jobStatus.exitCode()).as(jobStatus.toString()).isEqualTo(FlinkJobCli.OK);
      assertThat(jobStatus.out()).startsWith("RUNNING flink-local counting job (" + jobId.group(1) + ")").contains("checkpoints: ");

      CliRun add = Clis.flinkLocal("add-taskmanager", "--work-dir", workDir.toString());
      assertThat(add.exitCode()).as(add.toString()).isEqualTo(FlinkLocalCli.OK);
      assertThat(add.out()).startsWith("taskmanager-1 registered in ");
      assertThat(rest.overview().slotsTotal()).isEqualTo(4);

      Path savepoints = tempDir.resolve("my-savepoints");
      CliRun stopJob = Clis.flinkJob("stop", "--cluster", url, "--job", jobId.group(1), "--savepoint-dir", savepoints.toUri().toString());
      assertThat(stopJob.exitCode()).as(stopJob.toString()).isEqualTo(FlinkJobCli.OK);
      String savepoint = stopJob.out().lines().skip(1).findFirst().orElseThrow();
      assertThat(Path.of(URI.create(savepoint)).resolve("_metadata")).isRegularFile().startsWith(savepoints);
      assertThat(stopJob.out()).contains("resume: scripts/submit-job --cluster " + url + " --jar JOB.jar --from-savepoint " + savepoint);

      List<Long> pids = LocalFlinkCluster.attach(workDir).orElseThrow().taskManagers().stream().map(LocalFlinkCluster.ClusterProcess::pid).toList();
      CliRun stop = Clis.flinkLocal("stop", "--work-dir", workDir.toString());
      assertThat(stop.exitCode()).as(stop.toString()).isEqualTo(FlinkLocalCli.OK);
      assertThat(stop.out()).startsWith("Flink on " + url + " (3 processes) stopped in ");
      assertThat(ProcessHandle.of(jobManagerPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
      pids.forEach(pid -> assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("pid " + pid).isFalse());

      CliRun after = Clis.flinkLocal("status", "--work-dir", workDir.toString());
      assertThat(after.exitCode()).isEqualTo(FlinkLocalCli.NOT_RUNNING);
      assertThat(LocalFlinkClusterLifecycleITCase.leftoverProcesses(workDir)).isEmpty();
    } finally {
      LocalFlinkCluster.attach(workDir).ifPresent(LocalFlinkCluster::close); // a detached cluster outlives a failed test
    }
  }
}
