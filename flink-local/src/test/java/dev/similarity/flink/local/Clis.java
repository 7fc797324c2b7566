package dev.similarity.flink.local;

import dev.similarity.local.CliRun;

/** scripts/flink-local's and scripts/submit-job's command lines, run in-process. */
final class Clis {

  private Clis() {}

  static CliRun flinkLocal(String... args) {
    return CliRun.of((out, err) -> new FlinkLocalCli(out, err)::run, args);
  }

  static CliRun flinkJob(String... args) {
    return CliRun.of((out, err) -> new FlinkJobCli(out, err)::run, args);
  }
}
