package dev.similarity.flink.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.similarity.flink.local.internal.ClusterFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Settings are checked in build(), before any process starts; the config.yaml they make is what Flink reads. */
class LocalFlinkClusterBuilderTest {

  @TempDir Path tempDir;

  @Test
  void refusesConfigKeysItDerivesNamingTheSettingToUse() {
    assertRefused(LocalFlinkCluster.builder().config("rest.port", "8082"), "config rest.port is set by LocalFlinkCluster itself; use restPort()");
    assertRefused(LocalFlinkCluster.builder().config("taskmanager.numberOfTaskSlots", "4"), "use slotsPerTaskManager()");
    assertRefused(LocalFlinkCluster.builder().config("taskmanager.memory.process.size", "4g"), "use taskManagerMemory()");
    assertRefused(LocalFlinkCluster.builder().config("rest.bind-address", "0.0.0.0"), "every process binds to 127.0.0.1");
    assertRefused(LocalFlinkCluster.builder().config("env.java.opts.all", "-Xss1m"), "use jvmOption()");
  }

  @Test
  void refusesMemorySizesThatAreNotSizesOrTooSmallForFlinksMemoryModel() {
    assertRefused(LocalFlinkCluster.builder().taskManagerMemory("2048"), "taskManagerMemory is '2048'; give a size in megabytes or gigabytes");
    assertRefused(LocalFlinkCluster.builder().taskManagerMemory("1g"), "taskManagerMemory is 1g; Flink's memory model needs at least 1280m");
    assertRefused(LocalFlinkCluster.builder().jobManagerMemory("512m"), "jobManagerMemory is 512m; Flink's memory model needs at least 768m");
  }

  @Test
  void refusesAClusterThatClaimsMostOfThisMachinesMemory() {
    assertRefused(LocalFlinkCluster.builder().taskManagers(16).taskManagerMemory("64g"),
        "16 TaskManagers of 64g and a JobManager of 1024m claim 1049600 MB, more than 75% of this machine's");
  }

  @Test
  void refusesCountsOutOfRange() {
    assertRefused(LocalFlinkCluster.builder().taskManagers(0), "taskManagers is 0; use 1-16");
    assertRefused(LocalFlinkCluster.builder().slotsPerTaskManager(17), "slotsPerTaskManager is 17; use 1-16");
    assertRefused(LocalFlinkCluster.builder().restPort(70_000), "restPort is 70000; use 1-65535, or 0 for a free port");
    assertRefused(LocalFlinkCluster.builder().prometheusPort(65_530), "prometheusPort 65530 leaves no room for 20 ports after it");
  }

  @Test
  void refusesAPluginsDirThatIsNotADirectory() throws Exception {
    Path file = Files.writeString(tempDir.resolve("plugins"), "not a directory");
    assertRefused(LocalFlinkCluster.builder().pluginsDir(file), "pluginsDir " + file + " is not a directory");
  }

  @Test
  void refusesInstallingTheS3PluginIntoAPluginsDirectoryItDoesNotOwn() {
    assertRefused(LocalFlinkCluster.builder().pluginsDir(tempDir).s3FileSystem(true),
        "s3FileSystem(...) installs the plugin into the default plugins directory");
  }

  @Test
  void refusesJvmOptionsThatAreNotOptions() {
    assertRefused(LocalFlinkCluster.builder().jvmOption("Xss1m"), "jvmOption 'Xss1m' is not a JVM option");
  }

  @Test
  void refusesADetachedClusterWithoutWorkDir() {
    assertRefused(LocalFlinkCluster.builder().detached(true), "detached(true) needs workDir(...)");
  }

  @Test
  void refusesAClusterLibDirWithoutFlinkJarsSayingHowToBuildThem() {
    assertThatThrownBy(() -> LocalFlinkCluster.builder().clusterLibDir(tempDir).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("holds no flink-runtime-2*.jar")
        .hasMessageContaining("mvn -pl flink-local install -DskipTests");
  }

  @Test
  void flinkReadsTheGeneratedConfigYamlAsIntended() throws Exception {
    LocalFlinkCluster cluster = LocalFlinkCluster.builder().slotsPerTaskManager(3).taskManagerMemory("1536m")
        .prometheusPort(9300).jvmOption("-Dquote.test=it's")
        .config("restart-strategy.fixed-delay.delay", "7 s").build();
    ClusterFiles files = new ClusterFiles(tempDir);
    Map<String, String> entries = cluster.configEntries(files, 18081, 16123);
    files.writeConfigYaml(entries);

    Configuration flink = GlobalConfiguration.loadConfiguration(files.confDir().toString());

    assertThat(flink.get(RestOptions.PORT)).isEqualTo(18081);
    assertThat(flink.get(RestOptions.BIND_ADDRESS)).isEqualTo("127.0.0.1");
    assertThat(flink.get(JobManagerOptions.ADDRESS)).isEqualTo("127.0.0.1");
    assertThat(flink.get(JobManagerOptions.PORT)).isEqualTo(16123);
    assertThat(flink.get(RestOptions.SERVER_MAX_CONTENT_LENGTH)).isEqualTo(512 * 1024 * 1024);
    assertThat(flink.get(RestOptions.CLIENT_MAX_CONTENT_LENGTH)).isEqualTo(512 * 1024 * 1024);
    assertThat(flink.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("rocksdb");
    assertThat(flink.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY)).isEqualTo(tempDir.resolve("checkpoints").toUri().toString());
    assertThat(flink.get(CheckpointingOptions.SAVEPOINT_DIRECTORY)).isEqualTo(tempDir.resolve("savepoints").toUri().toString());
    assertThat(flink.get(TaskManagerOptions.NUM_TASK_SLOTS)).isEqualTo(3);
    assertThat(flink.get(TaskManagerOptions.TOTAL_PROCESS_MEMORY)).isEqualTo(MemorySize.parse("1536m"));
    assertThat(flink.get(JobManagerOptions.TOTAL_PROCESS_MEMORY)).isEqualTo(MemorySize.parse("1024m"));
    assertThat(flink.getString("metrics.reporter.prom.factory.class", null))
        .isEqualTo("org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
    assertThat(flink.getString("metrics.reporter.prom.port", null)).isEqualTo("9300-9320");
    assertThat(flink.getString("restart-strategy.type", null)).isEqualTo("fixed-delay");
    assertThat(flink.getString("restart-strategy.fixed-delay.delay", null)).isEqualTo("7 s");
    // The project's jvm.open.flags, then the builder's options; a quote survives YAML quoting.
    assertThat(flink.get(CoreOptions.FLINK_JVM_OPTIONS))
        .startsWith("--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED")
        .endsWith(" -Dquote.test=it's");
  }

  private static void assertRefused(LocalFlinkCluster.Builder builder, String expectedMessagePart) {
    assertThatThrownBy(builder::build).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(expectedMessagePart);
  }
}
