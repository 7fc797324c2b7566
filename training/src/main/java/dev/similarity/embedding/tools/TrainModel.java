package dev.similarity.embedding.tools;

import dev.similarity.embedding.data.FashionMnist;
import dev.similarity.embedding.training.Trainer;
import dev.similarity.embedding.training.TrainingConfig;
import java.nio.file.Path;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** {@code scripts/train-model}: trains the Fashion-MNIST similarity model and exports it. */
public final class TrainModel {

  private static final String USAGE = """
      usage: train-model [--out DIR] [--epochs N] [--per-class K] [--learning-rate LR]
                         [--network SPEC] [--loss multi-similarity|triplet[:margin]]
                         [--seed N] [--threads N] [--augment] [--model-id ID] [--version V]
        --out DIR        where to write saved_model.pb, variables/ and model.json
                         (default models/fashion-mnist-similarity)
        --epochs N       passes over the 60,000 training images (default 8)
        --per-class K    images per class in a batch; batch = 10 x K (default 16)
        --network SPEC   layer stack, default conv32-pool-drop0.1-conv64-pool-drop0.1-dense256-embed128
        --threads N      TensorFlow intra-op threads (default: all cores)
        --augment        random horizontal flips and 2-pixel shifts (default off)
      """;

  private TrainModel() {}

  public static void main(String[] args) {
    try {
      Arguments a = Arguments.parse(args, USAGE,
          List.of("--out", "--epochs", "--per-class", "--learning-rate", "--network", "--loss", "--seed",
              "--threads", "--model-id", "--version", "--warmup-epochs", "--steps-per-epoch"),
          List.of("--augment"));
      TrainingConfig.Builder builder = TrainingConfig.builder()
          .outputDir(Path.of(a.get("--out", "models/fashion-mnist-similarity")))
          .augment(a.has("--augment"));
      TrainingConfig defaults = builder.build();
      TrainingConfig config = builder
          .epochs(a.getInt("--epochs", defaults.epochs()))
          .perClass(a.getInt("--per-class", defaults.perClass()))
          .maxStepsPerEpoch(a.getInt("--steps-per-epoch", 0))
          .learningRate(a.getFloat("--learning-rate", defaults.learningRate()))
          .warmupEpochs(a.getFloat("--warmup-epochs", defaults.warmupEpochs()))
          .network(a.get("--network", defaults.network().text()))
          .loss(a.get("--loss", "multi-similarity"))
          .seed(Long.parseLong(a.get("--seed", Long.toString(defaults.seed()))))
          .threads(a.getInt("--threads", 0))
          .modelId(a.get("--model-id", defaults.modelId()))
          .version(a.get("--version", defaults.version()))
          .build();
      DateTimeFormatter clock = DateTimeFormatter.ofPattern("HH:mm:ss");
      Trainer.Summary summary = new Trainer(config, line ->
          System.out.println("[" + LocalTime.now().format(clock) + "] " + line))
          .train(FashionMnist.load(FashionMnist.Split.TRAIN));
      System.out.printf("done: %d epochs, %d steps, loss %.4f -> %.4f, %.0f s, model in %s%n",
          summary.epochs(), summary.steps(), summary.firstEpochLoss(), summary.lastEpochLoss(),
          summary.seconds(), summary.modelDir());
    } catch (Arguments.UsageException e) {
      System.err.println(e.getMessage());
      System.exit(2);
    } catch (IllegalArgumentException | IllegalStateException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(1);
    }
  }
}
