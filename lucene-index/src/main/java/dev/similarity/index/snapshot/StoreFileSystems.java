package dev.similarity.index.snapshot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.plugin.DefaultPluginManager;
import org.apache.flink.core.plugin.DirectoryBasedPluginFinder;
import org.apache.flink.core.plugin.PluginDescriptor;
import org.apache.flink.core.plugin.PluginManager;

/**
 * Sets Flink's file systems up the way a Flink process does at start (TaskManagerRunner's {@code
 * FileSystem.initialize(configuration, pluginManager)}), for the processes outside Flink that read
 * what lives in them: the search service (snapshot stores) and the catalogue import (exports). The
 * file system plugins under a plugins folder ({@code s3-fs-presto/flink-s3-fs-presto-2.2.0.jar}, each
 * in its own class loader) plus those on the class path, configured with Flink's keys ({@code
 * s3.endpoint}, {@code s3.access-key}, {@code s3.secret-key}, {@code s3.path.style.access}, ...).
 * Flink's file systems are JVM-wide: this affects every later {@code FileSystem.get} in the process.
 */
public final class StoreFileSystems {

  private StoreFileSystems() {}

  /**
   * @param settings Flink configuration keys of the file systems
   * @param pluginsDir Flink's plugins folder (one sub-folder per plugin), or null for the class path only
   * @return the plugins found, for the log
   * @throws UncheckedIOException if the plugins folder cannot be read
   */
  public static String initialize(Map<String, String> settings, Path pluginsDir) {
    Configuration config = Configuration.fromMap(settings);
    PluginManager plugins = null;
    String found = "none";
    if (pluginsDir != null) {
      try {
        var descriptors = new DirectoryBasedPluginFinder(pluginsDir).findPlugins();
        found = descriptors.stream().map(PluginDescriptor::getPluginId).sorted().toList().toString();
        plugins = new DefaultPluginManager(descriptors, CoreOptions.getPluginParentFirstLoaderPatterns(config));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the plugins folder " + pluginsDir + ": " + e.getMessage(), e);
      }
    }
    FileSystem.initialize(config, plugins);
    return found;
  }

  /**
   * Flink's {@code s3.*} keys from the command-line tools' {@code --s3-*} options, each null when not
   * given: an endpoint (an S3-compatible server, e.g. {@code http://127.0.0.1:9000}) turns path-style
   * access on unless {@code pathStyleAccess} says otherwise.
   *
   * @param pathStyleAccess "true", "false" or null
   * @throws IllegalArgumentException if {@code pathStyleAccess} is something else, or only one of the
   *     access key and the secret key is given (the message names the options)
   */
  public static Map<String, String> s3Settings(
      String endpoint, String pathStyleAccess, String accessKey, String secretKey) {
    Map<String, String> settings = new LinkedHashMap<>();
    if (endpoint != null) {
      settings.put("s3.endpoint", endpoint);
      settings.put("s3.path.style.access", "true");
    }
    if (pathStyleAccess != null) {
      if (!pathStyleAccess.equals("true") && !pathStyleAccess.equals("false")) {
        throw new IllegalArgumentException(
            "--s3-path-style-access is '" + pathStyleAccess + "'; give true or false");
      }
      settings.put("s3.path.style.access", pathStyleAccess);
    }
    if (accessKey != null) {
      settings.put("s3.access-key", accessKey);
    }
    if (secretKey != null && !secretKey.isBlank()) {
      settings.put("s3.secret-key", secretKey);
    }
    if (settings.containsKey("s3.access-key") != settings.containsKey("s3.secret-key")) {
      throw new IllegalArgumentException(
          "give both --s3-access-key and --s3-secret-key (or S3_SECRET_KEY), or neither");
    }
    return settings;
  }
}
