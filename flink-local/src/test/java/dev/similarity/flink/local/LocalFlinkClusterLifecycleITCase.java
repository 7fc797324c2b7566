package dev.similarity.flink.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.similarity.local.HoldingJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up failures and a parent that dies: no cluster process may be left behind. */
class LocalFlinkClusterLifecycleITCase {

  @TempDir Path tempDir;

  @Test
  void aProcessThatCannotStartIsReportedWithItsLogAndNothingIsLeftRunning() {
    Path workDir = tempDir.resolve("flink");
    // Flink accepts the configuration file; each process fails when it loads its high-availability services.
    LocalFlinkCluster cluster = LocalFlinkCluster.builder().workDir(workDir).taskManagers(1)
        .config("high-availability.type", "dev.similarity.NoSuchHaServicesFactory").build();

    assertThatThrownBy(cluster::start).isInstanceOf(IllegalStateException.class)
        .hasMessageMatching("(?s)(jobmanager|taskmanager-0) exited with code 1 during the start of the Flink cluster in .*")
        .hasMessageContaining("ClassNotFoundException: dev.similarity.NoSuchHaServicesFactory")
        .hasMessageContaining(workDir.resolve("log").toString());

    assertThat(LocalFlinkCluster.attach(workDir)).isEmpty();
    assertThat(workDir.resolve("flink-local.properties")).doesNotExist();
    assertThat(leftoverProcesses(workDir)).isEmpty();
  }

  @Test
  void aMemorySettingFlinkRefusesIsReportedWithFlinksReasonBeforeAnyProcessStarts() {
    Path workDir = tempDir.resolve("flink");
    LocalFlinkCluster cluster = LocalFlinkCluster.builder().workDir(workDir).taskManagers(1)
        .config("taskmanager.memory.managed.fraction", "0.95").build();

    assertThatThrownBy(cluster::start).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Flink's memory calculator refused the task manager memory settings")
        .hasMessageContaining("config.yaml");
    assertThat(leftoverProcesses(workDir)).isEmpty();
  }

  @Test
  void theClusterStopsWhenTheJvmThatStartedItIsKilled() throws Exception {
    Path workDir = tempDir.resolve("flink");
    HoldingJvm parent = HoldingJvm.start(ClusterHoldingMain.class, workDir.toString());
    try {
      List<Long> pids = parent.ready().stream().map(Long::parseLong).toList();
      assertThat(pids).hasSize(2);
      assertThat(LocalFlinkCluster.attach(workDir)).isPresent();

      parent.kill(); // SIGKILL: no shutdown hook runs in the parent

      for (long pid : pids) {
        Optional<ProcessHandle> child = ProcessHandle.of(pid);
        if (child.isPresent()) child.get().onExit().get(60, TimeUnit.SECONDS);
      }
      assertThat(LocalFlinkCluster.attach(workDir)).isEmpty();
      assertThat(leftoverProcesses(workDir)).isEmpty();
    } finally {
      parent.kill();
      LocalFlinkCluster.attach(workDir).ifPresent(LocalFlinkCluster::close);
    }
  }

  /** Run in a separate JVM by the test above: starts a cluster and waits to be killed. */
  public static final class ClusterHoldingMain {
    public static void main(String[] args) throws Exception {
      LocalFlinkCluster cluster = LocalFlinkCluster.builder().workDir(Path.of(args[0])).taskManagers(1)
          .startupTimeout(Duration.ofMinutes(3)).build().start();
      System.out.println("READY " + cluster.jobManager().orElseThrow().pid() + " " + cluster.taskManagers().get(0).pid());
      System.out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
  }

  /** Processes whose command line names this work directory's configuration. */
  static List<String> leftoverProcesses(Path workDir) {
    String confDir = workDir.resolve("conf").toString();
    List<String> leftovers = new ArrayList<>();
    ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
        .forEach(p -> p.info().commandLine().filter(c -> c.contains(confDir)).ifPresent(c -> leftovers.add(p.pid() + " " + c)));
    return leftovers;
  }

}
