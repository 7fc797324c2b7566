package dev.similarity.embedding;

/** Where the model runs. */
public enum DeviceSelection {
  /** The CPU, even when TensorFlow sees a GPU (the default, and what tests use). */
  CPU,
  /**
   * The first GPU; loading fails when TensorFlow sees none. Needs the GPU natives
   * ({@code mvn -Pgpu}, classifier linux-x86_64-gpu) and CUDA 12.3 + cuDNN 8.9 on the host.
   */
  GPU,
  /** The GPU when TensorFlow sees one, otherwise the CPU. */
  AUTO
}
