package dev.similarity.flink.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.similarity.flink.local.FlinkRestClient.CheckpointStats;
import dev.similarity.flink.local.FlinkRestClient.JobInfo;
import dev.similarity.flink.local.LocalFlinkCluster.ClusterProcess;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real standalone session cluster (a JobManager and two TaskManagers, each its own JVM) operated
 * through its REST API as the web UI does: a job jar built here is uploaded and run, a TaskManager
 * is killed with SIGKILL under a running job, a job is stopped with a savepoint and resumed at
 * another parallelism, the JobManager is killed and restarted. The tests share one cluster and run
 * in order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalFlinkClusterITCase {

  private static final Duration JOB_TIMEOUT = Duration.ofSeconds(90);
  /** An unbounded job: 200 numbers a second per subtask, a checkpoint every 500 ms. */
  private static final List<String> UNBOUNDED = List.of("--records", "0", "--sleep-ms", "5", "--checkpoint-ms", "500");

  @TempDir static Path tempDir;

  private LocalFlinkCluster cluster;
  private FlinkRestClient rest;
  private String jarId;
  /** The unbounded job of the failover test, stopped with a savepoint by the next test. */
  private String unboundedJobId;
  private final List<Long> pidsEverStarted = new ArrayList<>();

  @BeforeAll
  void startCluster() throws Exception {
    long startingAt = System.nanoTime();
    cluster = LocalFlinkCluster.builder()
        .workDir(tempDir.resolve("flink"))
        .taskManagers(2)
        .slotsPerTaskManager(2)
        // Faster detection than the defaults, so failover and JobManager restart fit in the test's time.
        .config("heartbeat.interval", "1000")
        .config("heartbeat.timeout", "10000")
        .config("restart-strategy.fixed-delay.delay", "1 s")
        .build()
        .start();
    System.out.printf("cluster of 2 TaskManagers up in %.1f s: %s%n", (System.nanoTime() - startingAt) / 1e9, cluster);
    rest = cluster.restClient();
    recordPids();
  }

  @AfterAll
  void stopCluster() {
    if (cluster != null) cluster.close();
  }

  @Test
  @Order(1)
  void webUiAndRestApiShowTwoTaskManagersWithTheirSlots() throws Exception {
    String index = rest.get("/");
    assertThat(index).contains("<title>Apache Flink Web Dashboard</title>").contains("<flink-root>");
    Matcher script = Pattern.compile("src=\"(main\\.[0-9a-f]+\\.js)\"").matcher(index);
    assertThat(script.find()).as("the Angular bundle named in index.html").isTrue();
    assertThat(rest.get("/" + script.group(1))).hasSizeGreaterThan(100_000);

    FlinkRestClient.ClusterOverview overview = rest.overview();
    assertThat(overview.taskManagers()).isEqualTo(2);
    assertThat(overview.slotsTotal()).isEqualTo(4);
    assertThat(overview.slotsAvailable()).isEqualTo(4);
    assertThat(overview.flinkVersion()).isEqualTo("2.2.0");
    assertThat(rest.taskManagerIds()).containsExactlyInAnyOrder("taskmanager-0", "taskmanager-1");

    // Separate JVMs, none of them this one.
    List<Long> pids = new ArrayList<>(List.of(cluster.jobManager().orElseThrow().pid()));
    cluster.taskManagers().forEach(tm -> pids.add(tm.pid()));
    assertThat(pids).doesNotHaveDuplicates().doesNotContain(ProcessHandle.current().pid()).hasSize(3);

    // The JobManager runs on the generated config.yaml.
    String jobManagerConfig = rest.get("/jobmanager/config");
    assertThat(jobManagerConfig)
        .contains("{\"key\":\"state.backend.type\",\"value\":\"rocksdb\"}")
        .contains("{\"key\":\"rest.server.max-content-length\",\"value\":\"536870912\"}")
        .contains("{\"key\":\"restart-strategy.type\",\"value\":\"fixed-delay\"}")
        .contains(cluster.checkpointDir().toUri().toString());
    assertThat(Files.readString(cluster.configFile())).contains("env.java.opts.all: '--add-modules jdk.incubator.vector");
    assertThat(Files.readString(cluster.logDir().resolve("jobmanager.log"))).contains("Rest endpoint listening at 127.0.0.1:" + cluster.restPort());
    // Flink's S3 file system is a plugin of every process, as in Flink's image with ENABLE_BUILT_IN_PLUGINS.
    assertThat(cluster.workDir().resolve("plugins/s3-fs-presto/flink-s3-fs-presto-2.2.0.jar")).isRegularFile();
  }

  @Test
  @Order(2)
  void everyTaskManagerServesFlinkMetricsToPrometheus() throws Exception {
    for (ClusterProcess taskManager : cluster.taskManagers()) {
      String metrics = httpGet(taskManager.prometheusUrl());
      assertThat(metrics).as(taskManager.name() + " at " + taskManager.prometheusUrl())
          .contains("flink_taskmanager_Status_JVM_Memory_Heap_Used")
          .contains("tm_id=\"" + taskManager.name().replace('-', '_') + "\"");
    }
    assertThat(httpGet(cluster.jobManager().orElseThrow().prometheusUrl())).contains("flink_jobmanager_numRegisteredTaskManagers");
  }

  @Test
  @Order(3)
  void boundedJobUploadedAndRunThroughRestFinishes() throws Exception {
    String jobId = rest.run(jarId(), null, List.of("--records", "5000"), 2, null);

    JobInfo finished = rest.awaitJob(jobId, "FINISHED", job -> job.state().equals("FINISHED"), JOB_TIMEOUT);

    assertThat(finished.name()).isEqualTo("flink-local counting job");
    assertThat(finished.tasksIn("FINISHED")).isEqualTo(finished.tasks().values().stream().mapToInt(Integer::intValue).sum());
  }

  @Test
  @Order(4)
  void aJobJarAsLargeAsOneCarryingTheTensorFlowNativesIsUploadedAndRuns() throws Exception {
    // The indexer's jar carries the TensorFlow natives (149 MB): the upload streams it, the TaskManagers fetch it from the blob server.
    Path bigJar = TestJobJar.build(tempDir.resolve("big-job.jar"), 150 * 1024 * 1024);
    assertThat(Files.size(bigJar)).isGreaterThan(104_857_600L);
    long uploadingAt = System.nanoTime();

    String bigJarId = rest.uploadJar(bigJar);
    double uploadSeconds = (System.nanoTime() - uploadingAt) / 1e9;

    String jobId = rest.run(bigJarId, null, List.of("--records", "1000"), 2, null);
    rest.awaitJob(jobId, "FINISHED", job -> job.state().equals("FINISHED"), JOB_TIMEOUT);
    System.out.printf("%d-byte jar uploaded in %.1f s, its job finished %.1f s after the upload began%n",
        Files.size(bigJar), uploadSeconds, (System.nanoTime() - uploadingAt) / 1e9);
    rest.deleteJar(bigJarId);
    Files.delete(bigJar);
  }

  @Test
  @Order(5)
  void jobRecoversFromItsLastCheckpointAfterATaskManagerIsKilledAndAReplacementJoins() throws Exception {
    // Parallelism 4 takes every slot of both TaskManagers: after the kill the job cannot run until a replacement joins.
    String jobId = rest.run(jarId(), null, UNBOUNDED, 4, null);
    unboundedJobId = jobId;
    rest.awaitJob(jobId, "running on all 4 slots", JobInfo::fullyRunning, JOB_TIMEOUT);
    awaitTrue("a completed checkpoint", () -> rest.checkpoints(jobId).completed() >= 2, JOB_TIMEOUT);
    long checkpointBeforeKill = rest.checkpoints(jobId).latestCompleted().orElseThrow().id();

    long killedPid = cluster.taskManagers().get(0).pid();
    long killingAt = System.nanoTime();
    cluster.killTaskManager(0);
    assertThat(ProcessHandle.of(killedPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    awaitTrue("the job to notice the lost TaskManager",
        () -> rest.jobMetric(jobId, "numRestarts").map(Long::parseLong).orElse(0L) >= 1, JOB_TIMEOUT);
    assertThat(rest.job(jobId).fullyRunning()).as("4 subtasks cannot run on the 2 slots left").isFalse();

    int replacement = cluster.startTaskManager();
    recordPids();
    assertThat(replacement).isEqualTo(2);
    assertThat(rest.taskManagerIds()).contains("taskmanager-2").doesNotContain("taskmanager-0");
    rest.awaitJob(jobId, "running again on all 4 slots", JobInfo::fullyRunning, JOB_TIMEOUT);
    CheckpointStats restored = rest.checkpoints(jobId);
    assertThat(restored.restored()).isGreaterThanOrEqualTo(1);
    assertThat(restored.latestRestored().orElseThrow().id()).isGreaterThanOrEqualTo(checkpointBeforeKill);
    awaitTrue("a checkpoint after the recovery",
        () -> rest.checkpoints(jobId).latestCompleted().orElseThrow().id() > restored.latestRestored().orElseThrow().id(), JOB_TIMEOUT);
    System.out.printf("job %s recovered %.1f s after the SIGKILL of taskmanager-0%n", jobId, (System.nanoTime() - killingAt) / 1e9);
  }

  @Test
  @Order(6)
  void jobStoppedWithASavepointResumesFromItAtAnotherParallelism() throws Exception {
    String jobId = unboundedJobId != null ? unboundedJobId : startUnboundedJob(4);

    String savepoint = rest.stopWithSavepoint(jobId, null, JOB_TIMEOUT);

    Path savepointDir = Path.of(URI.create(savepoint));
    assertThat(savepointDir).startsWith(cluster.savepointDir());
    assertThat(savepointDir.resolve("_metadata")).isRegularFile();
    rest.awaitJob(jobId, "FINISHED after its savepoint", job -> job.state().equals("FINISHED"), JOB_TIMEOUT);

    String resumed = rest.run(jarId(), null, UNBOUNDED, 3, savepoint);
    JobInfo running = rest.awaitJob(resumed, "running at parallelism 3", JobInfo::fullyRunning, JOB_TIMEOUT);
    assertThat(running.tasks().get("RUNNING")).as("3 subtasks of each of 4 operators, chained into 2 tasks").isEqualTo(6);
    CheckpointStats checkpoints = rest.checkpoints(resumed);
    assertThat(checkpoints.restored()).isEqualTo(1);
    assertThat(checkpoints.latestRestored().orElseThrow().savepoint()).isTrue();
    assertThat(checkpoints.latestRestored().orElseThrow().externalPath()).isEqualTo(savepoint);

    rest.cancel(resumed);
    rest.awaitJob(resumed, "CANCELED", job -> job.state().equals("CANCELED"), JOB_TIMEOUT);
  }

  @Test
  @Order(7)
  void jobManagerKilledAndRestartedTakesBackTheRunningTaskManagers() {
    long killedPid = cluster.jobManager().orElseThrow().pid();

    cluster.killJobManager();
    assertThat(ProcessHandle.of(killedPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(cluster.jobManager()).isEmpty();
    assertThatThrownBy(rest::overview).isInstanceOf(UncheckedIOException.class);

    long restartingAt = System.nanoTime();
    cluster.restartJobManager();
    recordPids();

    assertThat(rest.taskManagerIds()).containsExactlyInAnyOrder("taskmanager-1", "taskmanager-2");
    assertThat(rest.overview().slotsTotal()).isEqualTo(4);
    System.out.printf("TaskManagers re-registered %.1f s after the JobManager restart%n", (System.nanoTime() - restartingAt) / 1e9);
  }

  @Test
  @Order(8)
  void closeStopsEveryProcessItStarted() {
    cluster.close();

    for (long pid : pidsEverStarted) {
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("pid " + pid).isFalse();
    }
    String confDir = tempDir.resolve("flink").resolve("conf").toString();
    List<String> leftovers = ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains(confDir)).orElse(false))
        .map(p -> p.pid() + " " + p.info().commandLine().orElse("")).toList();
    assertThat(leftovers).isEmpty();
    assertThat(LocalFlinkCluster.attach(tempDir.resolve("flink"))).isEmpty();
  }

  private String jarId() throws Exception {
    if (jarId == null) {
      Path jar = TestJobJar.build(tempDir.resolve("counting-job.jar"));
      jarId = rest.uploadJar(jar);
      assertThat(jarId).endsWith("_counting-job.jar");
    }
    return jarId;
  }

  private String startUnboundedJob(int parallelism) throws Exception {
    String jobId = rest.run(jarId(), null, UNBOUNDED, parallelism, null);
    rest.awaitJob(jobId, "running", JobInfo::fullyRunning, JOB_TIMEOUT);
    awaitTrue("a completed checkpoint", () -> rest.checkpoints(jobId).completed() >= 1, JOB_TIMEOUT);
    return jobId;
  }

  private void recordPids() {
    cluster.jobManager().ifPresent(jm -> pidsEverStarted.add(jm.pid()));
    cluster.taskManagers().forEach(tm -> pidsEverStarted.add(tm.pid()));
  }

  private static String httpGet(String url) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient()
        .send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(url).isEqualTo(200);
    return response.body();
  }

  private static void awaitTrue(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("no " + what + " within " + timeout);
      Thread.sleep(200);
    }
  }
}
