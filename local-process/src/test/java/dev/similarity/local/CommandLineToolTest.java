package dev.similarity.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** How every harness command line answers: exit codes, usage mistakes with the usage text, failures as "error: ...". */
class CommandLineToolTest {

  private static final String USAGE = "usage: Tool start|topics --dir DIR";

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @Command(name = "Tool")
  static final class Tool {
    final PrintStream out;

    Tool(PrintStream out) {
      this.out = out;
    }

    static final class Options {
      @Option(names = "--dir") Path dir;
      @Option(names = "--port", converter = CommandLineTool.WholeNumber.class) int port = 9092;
      @Option(names = "--parallelism", converter = CommandLineTool.PositiveNumber.class) Integer parallelism;
    }

    @Command(name = "start")
    int start(@Mixin Options options) {
      CommandLineTool.required(options.dir, "--dir is missing: where it keeps its state");
      if (options.port == 1) throw new IllegalStateException("port 1 is taken");
      out.println("started in " + options.dir + " on " + options.port);
      return CommandLineTool.OK;
    }

    @Command(name = "topics")
    int topics(@Mixin Options options, @Parameters(paramLabel = "ARGUMENT") List<String> args) {
      out.println("topics " + args);
      return CommandLineTool.NOT_RUNNING;
    }
  }

  private int run(String... args) {
    return CommandLineTool.of(new Tool(new PrintStream(out, true, StandardCharsets.UTF_8)), USAGE,
            new PrintStream(err, true, StandardCharsets.UTF_8))
        .conversionHint("--port", " (TOOL_PORT for scripts/tool)")
        .unexpectedArgumentHint(" (tool arguments go after 'topics')")
        .passThrough("topics")
        .run(args);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void runsTheNamedCommandCaseInsensitivelyAndReturnsItsExitCode() {
    assertThat(run("START", "--dir", "/tmp/x", "--port", "5")).isEqualTo(CommandLineTool.OK);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("started in /tmp/x on 5\n");
    assertThat(err()).isEmpty();
  }

  @Test
  void withoutArgumentsPrintsTheUsage() {
    assertThat(run()).isEqualTo(CommandLineTool.USAGE);
    assertThat(err()).isEqualTo(USAGE + "\n");
  }

  @Test
  void anUnknownCommandIsNamed() {
    assertThat(run("restart", "--dir", "/tmp/x")).isEqualTo(CommandLineTool.USAGE);
    assertThat(err()).isEqualTo("unknown command 'restart'\n" + USAGE + "\n");
  }

  @Test
  void anUnexpectedArgumentIsNamedWithTheToolsHint() {
    assertThat(run("start", "--dir", "/tmp/x", "--products", "10")).isEqualTo(CommandLineTool.USAGE);
    assertThat(err()).startsWith("unexpected argument '--products' (tool arguments go after 'topics')\n" + USAGE);
  }

  @Test
  void aValueThatIsNoNumberIsQuotedWithTheOptionsHint() {
    assertThat(run("start", "--dir", "/tmp/x", "--port", "ninety")).isEqualTo(CommandLineTool.USAGE);
    assertThat(err()).startsWith("--port 'ninety' is not a number (TOOL_PORT for scripts/tool)\n");
    err.reset();
    assertThat(run("start", "--dir", "/tmp/x", "--parallelism", "0")).isEqualTo(CommandLineTool.USAGE);
    assertThat(err()).startsWith("--parallelism '0' is not a positive whole number\n");
  }

  @Test
  void anOptionWithoutItsValueSaysSo() {
    assertThat(run("start", "--dir")).isEqualTo(CommandLineTool.USAGE);
    assertThat(err()).startsWith("--dir needs a value\n");
  }

  @Test
  void aMissingRequiredOptionIsAUsageMistake() {
    assertThat(run("start")).isEqualTo(CommandLineTool.USAGE);
    assertThat(err()).isEqualTo("--dir is missing: where it keeps its state\n" + USAGE + "\n");
  }

  @Test
  void aFailingCommandPrintsErrorAndExitsFailed() {
    assertThat(run("start", "--dir", "/tmp/x", "--port", "1")).isEqualTo(CommandLineTool.FAILED);
    assertThat(err()).isEqualTo("error: port 1 is taken\n");
  }

  @Test
  void aPassThroughCommandKeepsUnknownOptionsInOrderAndAtFilesAsTheyAre() {
    assertThat(run("topics", "--dir", "/tmp/x", "--create", "--topic", "t", "--partitions", "4", "@file"))
        .isEqualTo(CommandLineTool.NOT_RUNNING);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("topics [--create, --topic, t, --partitions, 4, @file]\n");
  }
}
