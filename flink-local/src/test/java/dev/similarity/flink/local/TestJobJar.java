package dev.similarity.flink.local;

import dev.similarity.flink.local.testjob.CountingJob;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;

/** Packs {@link CountingJob} (compiled into target/test-classes) into a job jar, as a job's build would. */
final class TestJobJar {

  static final String MAIN_CLASS = CountingJob.class.getName();

  private TestJobJar() {}

  /** Writes the jar with {@code Main-Class: CountingJob} and every class of its package; Flink comes from the cluster. */
  static Path build(Path jar) throws IOException {
    return build(jar, 0);
  }

  /**
   * As {@link #build(Path)}, plus a stored (uncompressed) entry of {@code paddingBytes} random bytes,
   * as a jar carrying native libraries would: {@code natives/padding.bin}.
   */
  static Path build(Path jar, int paddingBytes) throws IOException {
    Path classes;
    try {
      classes = Path.of(CountingJob.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IOException("cannot locate the test classes", e);
    }
    String packagePath = CountingJob.class.getPackageName().replace('.', '/');
    Manifest manifest = new Manifest();
    manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, MAIN_CLASS);
    List<Path> classFiles;
    try (Stream<Path> files = Files.list(classes.resolve(packagePath))) {
      classFiles = files.filter(p -> p.toString().endsWith(".class")).sorted().toList();
    }
    if (classFiles.isEmpty()) throw new IOException("no classes in " + classes.resolve(packagePath));
    try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, manifest)) {
      for (Path classFile : classFiles) {
        out.putNextEntry(new JarEntry(packagePath + "/" + classFile.getFileName()));
        Files.copy(classFile, out);
        out.closeEntry();
      }
      if (paddingBytes > 0) {
        byte[] padding = new byte[paddingBytes];
        new SplittableRandom(11).nextBytes(padding);
        CRC32 crc = new CRC32();
        crc.update(padding);
        JarEntry entry = new JarEntry("natives/padding.bin");
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(paddingBytes);
        entry.setCompressedSize(paddingBytes);
        entry.setCrc(crc.getValue());
        out.putNextEntry(entry);
        out.write(padding);
        out.closeEntry();
      }
    }
    return jar;
  }
}
