package dev.similarity.flink.local.internal;

import dev.similarity.local.LocalFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What a started cluster records in its work directory so that another process (the CLI's
 * {@code stop} and {@code status}) can find it again: the ports every process shares and one
 * {@link Member} per running JVM. Rewritten whenever a process starts or is killed.
 *
 * @param prometheusFirstPort where the Prometheus ports of processes started later begin (0: any free port)
 * @param pluginsDir FLINK_PLUGINS_DIR of every process, for TaskManagers started later
 * @param jobManager empty while the JobManager is killed and not yet restarted
 * @param nextTaskManagerIndex the index the next TaskManager gets; indices are never reused
 */
public record ClusterState(int restPort, int rpcPort, int prometheusFirstPort, Path pluginsDir, Optional<Member> jobManager, List<Member> taskManagers,
    int nextTaskManagerIndex) {

  /**
   * One cluster JVM.
   *
   * @param name {@code jobmanager} or {@code taskmanager-N}; also the TaskManager's resource id and its log's name
   * @param prometheusPort where its Prometheus reporter serves {@code /metrics}
   */
  public record Member(String name, long pid, int prometheusPort) {}

  public ClusterState {
    taskManagers = List.copyOf(taskManagers);
  }

  public void write(ClusterFiles files) throws IOException {
    StringBuilder content = new StringBuilder("# A cluster started by LocalFlinkCluster; removed when it stops.\n")
        .append("rest.port=").append(restPort).append('\n')
        .append("jobmanager.rpc.port=").append(rpcPort).append('\n')
        .append("taskmanager.next-index=").append(nextTaskManagerIndex).append('\n')
        .append("prometheus.first-port=").append(prometheusFirstPort).append('\n')
        .append("plugins.dir=").append(pluginsDir.toString().replace("\\", "\\\\")).append('\n');
    jobManager.ifPresent(jm -> content.append(entry(jm)));
    content.append("taskmanagers=").append(taskManagers.stream().map(Member::name).collect(Collectors.joining(","))).append('\n');
    taskManagers.forEach(tm -> content.append(entry(tm)));
    LocalFiles.writeAtomically(files.stateFile(), content.toString());

    Files.createDirectories(files.pidDir());
    List<String> running = new ArrayList<>();
    jobManager.ifPresent(jm -> running.add(jm.name()));
    taskManagers.forEach(tm -> running.add(tm.name()));
    for (Member member : members()) {
      LocalFiles.writePid(files.pidFile(member.name()), member.pid());
    }
    try (Stream<Path> pidFiles = Files.list(files.pidDir())) {
      for (Path pidFile : pidFiles.toList()) {
        String name = pidFile.getFileName().toString();
        if (name.endsWith(".pid") && !running.contains(name.substring(0, name.length() - 4))) Files.deleteIfExists(pidFile);
      }
    }
  }

  /** The JobManager (if recorded) and then the TaskManagers. */
  public List<Member> members() {
    List<Member> all = new ArrayList<>();
    jobManager.ifPresent(all::add);
    all.addAll(taskManagers);
    return all;
  }

  /** The recorded state, or empty when there is none; a damaged file reads as none. */
  public static Optional<ClusterState> read(ClusterFiles files) {
    return LocalFiles.readProperties(files.stateFile(), properties -> {
      Optional<Member> jobManager = properties.containsKey(ClusterFiles.JOB_MANAGER + ".pid")
          ? Optional.of(member(properties, ClusterFiles.JOB_MANAGER))
          : Optional.empty();
      List<Member> taskManagers = new ArrayList<>();
      for (String name : Arrays.stream(properties.getProperty("taskmanagers", "").split(",")).filter(s -> !s.isBlank()).toList()) {
        taskManagers.add(member(properties, name.trim()));
      }
      return new ClusterState(
          Integer.parseInt(properties.getProperty("rest.port")),
          Integer.parseInt(properties.getProperty("jobmanager.rpc.port")),
          Integer.parseInt(properties.getProperty("prometheus.first-port")),
          Path.of(properties.getProperty("plugins.dir")),
          jobManager, taskManagers,
          Integer.parseInt(properties.getProperty("taskmanager.next-index")));
    });
  }

  public static void delete(ClusterFiles files) throws IOException {
    Files.deleteIfExists(files.stateFile());
    if (!Files.isDirectory(files.pidDir())) return;
    try (Stream<Path> pidFiles = Files.list(files.pidDir())) {
      for (Path pidFile : pidFiles.toList()) {
        if (pidFile.getFileName().toString().endsWith(".pid")) Files.deleteIfExists(pidFile);
      }
    }
  }

  private static String entry(Member member) {
    return member.name() + ".pid=" + member.pid() + "\n" + member.name() + ".prometheus.port=" + member.prometheusPort() + "\n";
  }

  private static Member member(Properties properties, String name) {
    return new Member(name, Long.parseLong(properties.getProperty(name + ".pid")),
        Integer.parseInt(properties.getProperty(name + ".prometheus.port")));
  }
}
