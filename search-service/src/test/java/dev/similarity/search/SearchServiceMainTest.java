package dev.similarity.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.similarity.embedding.tools.Arguments;
import dev.similarity.embedding.tools.Arguments.UsageException;
import java.util.List;
import org.junit.jupiter.api.Test;

class SearchServiceMainTest {

  private static Arguments line(String... args) {
    return Arguments.parse(args, SearchServiceMain.USAGE, List.of("--s3-endpoint", "--s3-path-style-access",
        "--s3-access-key", "--s3-secret-key"), List.of());
  }

  @Test
  void s3OptionsBecomeFlinksS3KeysWithPathStyleAccessForAnEndpoint() {
    assertThat(SearchServiceMain.s3Settings(
            line("--s3-endpoint", "http://127.0.0.1:9000", "--s3-access-key", "k", "--s3-secret-key", "s"), null))
        .containsExactly(
            java.util.Map.entry("s3.endpoint", "http://127.0.0.1:9000"),
            java.util.Map.entry("s3.path.style.access", "true"),
            java.util.Map.entry("s3.access-key", "k"),
            java.util.Map.entry("s3.secret-key", "s"));
  }

  @Test
  void theSecretKeyMayComeFromTheEnvironmentAndTheOptionWins() {
    assertThat(SearchServiceMain.s3Settings(line("--s3-access-key", "k"), "from-env"))
        .containsEntry("s3.secret-key", "from-env");
    assertThat(SearchServiceMain.s3Settings(line("--s3-access-key", "k", "--s3-secret-key", "s"), "from-env"))
        .containsEntry("s3.secret-key", "s");
  }

  @Test
  void withoutS3OptionsThereAreNoSettings() {
    assertThat(SearchServiceMain.s3Settings(line(), null)).isEmpty();
  }

  @Test
  void halfACredentialOrABadFlagIsRefused() {
    assertThatThrownBy(() -> SearchServiceMain.s3Settings(line("--s3-access-key", "k"), null))
        .isInstanceOf(UsageException.class).hasMessageContaining("S3_SECRET_KEY");
    assertThatThrownBy(() -> SearchServiceMain.s3Settings(line("--s3-path-style-access", "yes"), null))
        .isInstanceOf(UsageException.class).hasMessageContaining("true or false");
  }

  @Test
  void theUploadCropIsOffBoxOrCutoutAndAnythingElseIsRefused() {
    assertThat(SearchServiceMain.crop("box")).isEqualTo(dev.similarity.embedding.CropMode.BOX);
    assertThat(SearchServiceMain.crop("off")).isEqualTo(dev.similarity.embedding.CropMode.OFF);
    assertThat(SearchService.Builder.DEFAULT_UPLOAD_CROP).isEqualTo(dev.similarity.embedding.CropMode.CUTOUT);
    assertThatThrownBy(() -> SearchServiceMain.crop("on"))
        .isInstanceOf(UsageException.class).hasMessage("--crop is 'on'; it must be off, box or cutout");
  }
}
