package dev.similarity.flink.local.internal;

import dev.similarity.local.LocalFiles;
import dev.similarity.local.LogFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Layout of a cluster's work directory. Everything the cluster owns lives under it, so deleting it
 * (with the cluster stopped) forgets the cluster completely.
 *
 * <pre>
 * workDir/
 *   flink-local.properties      pids and ports of the running processes (absent when stopped)
 *   pids/jobmanager.pid         one pid file per running process, for people and shell scripts
 *   pids/taskmanager-N.pid
 *   conf/config.yaml            Flink's configuration, rewritten at every start
 *   conf/log4j2.properties      logging of the cluster JVMs
 *   conf/log4j2-tools.properties logging of Flink's memory calculator (BashJavaUtils)
 *   log/jobmanager.log, .out    Flink's log (rolled at 50 MB) and the JVM's stdout/stderr
 *   log/taskmanager-N.log, .out
 *   log/flink-local.log         what flink-local did: commands, kills, restarts
 *   checkpoints/                execution.checkpointing.dir
 *   savepoints/                 execution.checkpointing.savepoint-dir (the default target of stop-with-savepoint)
 *   web-upload/                 jars uploaded through the REST API or the web UI; kept across restarts
 *   plugins/                    the plugins directory when none is configured: s3-fs-presto/ (Flink's S3
 *                               file system) unless LocalFlinkCluster.Builder.s3FileSystem(false)
 *   tmp/                        io.tmp.dirs: RocksDB working files, blob caches; emptied at every start
 * </pre>
 */
public record ClusterFiles(Path workDir) {

  public static final String JOB_MANAGER = "jobmanager";
  /** The S3 plugin's folder name under a plugins directory, as in Flink's distribution. */
  public static final String S3_PLUGIN = "s3-fs-presto";

  public Path stateFile() { return workDir.resolve("flink-local.properties"); }
  public Path pidDir() { return workDir.resolve("pids"); }
  public Path pidFile(String process) { return pidDir().resolve(process + ".pid"); }
  public Path confDir() { return workDir.resolve("conf"); }
  public Path configYaml() { return confDir().resolve("config.yaml"); }
  public Path logConfig() { return confDir().resolve("log4j2.properties"); }
  public Path toolsLogConfig() { return confDir().resolve("log4j2-tools.properties"); }
  public Path logDir() { return workDir.resolve("log"); }
  /** Flink's log of a process ({@code jobmanager}, {@code taskmanager-0}); the web UI serves it. */
  public Path logFile(String process) { return logDir().resolve(process + ".log"); }
  /** The JVM's stdout and stderr; Flink's web UI serves it as the process's "Stdout". */
  public Path outFile(String process) { return logDir().resolve(process + ".out"); }
  public Path launcherLog() { return logDir().resolve("flink-local.log"); }
  public Path checkpointDir() { return workDir.resolve("checkpoints"); }
  public Path savepointDir() { return workDir.resolve("savepoints"); }
  public Path webUploadDir() { return workDir.resolve("web-upload"); }
  public Path defaultPluginsDir() { return workDir.resolve("plugins"); }
  public Path tmpDir() { return workDir.resolve("tmp"); }

  public static String taskManagerName(int index) {
    return "taskmanager-" + index;
  }

  /**
   * Writes config.yaml with one flat key per line ({@code a.b.c: 'value'}, which Flink 2's YAML
   * parser reads as the nested form) and every value as a single-quoted YAML string.
   */
  public void writeConfigYaml(Map<String, String> entries) throws IOException {
    StringBuilder out = new StringBuilder("# Written by LocalFlinkCluster at every start; edits are lost.\n"
        + "# Flink 2 configuration (YAML, flat keys). Memory sizes are whole processes; Flink splits them.\n");
    entries.forEach((key, value) -> out.append(key).append(": '").append(value.replace("'", "''")).append("'\n"));
    LocalFiles.writeAtomically(configYaml(), out.toString());
  }

  public void writeLogConfigs() throws IOException {
    // Flink's own default (conf/log4j.properties of the distribution), 50 MB files kept 3 deep.
    LocalFiles.writeAtomically(logConfig(), """
        monitorInterval = 30
        rootLogger.level = INFO
        rootLogger.appenderRef.file.ref = MainAppender
        logger.pekko.name = org.apache.pekko
        logger.pekko.level = INFO
        logger.kafka.name = org.apache.kafka
        logger.kafka.level = INFO
        logger.zookeeper.name = org.apache.zookeeper
        logger.zookeeper.level = INFO
        logger.shaded_zookeeper.name = org.apache.flink.shaded.zookeeper3
        logger.shaded_zookeeper.level = INFO
        logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline
        logger.netty.level = OFF
        appender.main.name = MainAppender
        appender.main.type = RollingFile
        appender.main.append = true
        appender.main.fileName = ${sys:log.file}
        appender.main.filePattern = ${sys:log.file}.%i
        appender.main.layout.type = PatternLayout
        appender.main.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %X{flink-job-id} - %m%n
        appender.main.policies.type = Policies
        appender.main.policies.size.type = SizeBasedTriggeringPolicy
        appender.main.policies.size.size = 50MB
        appender.main.policies.startup.type = OnStartupTriggeringPolicy
        appender.main.strategy.type = DefaultRolloverStrategy
        appender.main.strategy.max = 3
        """);
    LocalFiles.writeAtomically(toolsLogConfig(), LogFiles.TOOLS_LOG4J2_PROPERTIES);
  }

  /**
   * The jar of Flink's S3 file system plugin that flink-local's build copies next to the cluster lib
   * ({@code flink-local/target/plugins/s3-fs-presto/flink-s3-fs-presto-*.jar}), if there is one.
   */
  public static Optional<Path> s3Plugin(Path clusterLibDir) {
    Path dir = clusterLibDir.toAbsolutePath().normalize().resolveSibling("plugins").resolve(S3_PLUGIN);
    if (!Files.isDirectory(dir)) return Optional.empty();
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.getFileName().toString().startsWith("flink-s3-fs-presto-") && p.toString().endsWith(".jar")).findFirst();
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
