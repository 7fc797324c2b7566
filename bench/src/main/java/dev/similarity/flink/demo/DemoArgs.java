package dev.similarity.flink.demo;

import dev.similarity.flink.IndexerOptions;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Command-line arguments shared by the demo and the benchmarks. */
record DemoArgs(int products, double rate, boolean exit, Path report, int webUiPort, int kafkaPort, Path work,
                long timeoutMs, Map<String, String> settings, Cluster cluster, boolean embeddedEvents) {

    /**
     * Where the demo's job runs when not in the demo's own JVM (url null: in the demo's JVM, which the other
     * fields also apply to): a Flink cluster's REST address, an existing
     * broker, a run name kept across runs (topics, consumer group, transactional ids), and a savepoint or
     * retained checkpoint to resume from. All null when the demo runs everything itself. {@code parallelism}
     * (null: the job's default) is also in the settings as indexer.parallelism, which the job obeys.
     */
    record Cluster(String url, String bootstrapServers, String runName, String fromSavepoint, Integer parallelism, int first) {}

    private static final String PARALLELISM_OPTION = IndexerOptions.PARALLELISM.key();

    static DemoArgs parse(String[] args, String usage) {
        int products = 10_000;
        double rate = 0;
        boolean exit = false;
        // Events carry the model's embedding of their image (CatalogueEmbeddings): the job fetches nothing.
        boolean embeddedEvents = false;
        Path report = null;
        int webUiPort = 8081;
        int kafkaPort = 0;
        Path work = Path.of("work");
        long timeoutMs = -1;
        Map<String, String> settings = new HashMap<>();
        String clusterUrl = null, bootstrap = null, runName = null, savepoint = null;
        Integer parallelism = null;
        int first = 0;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--exit" -> exit = true;
                case "--embedded-events" -> embeddedEvents = true;
                case "--products" -> products = Integer.parseInt(value(args, ++i, arg, usage));
                case "--rate" -> rate = Double.parseDouble(value(args, ++i, arg, usage));
                case "--report" -> report = Path.of(value(args, ++i, arg, usage));
                case "--web-ui-port" -> webUiPort = Integer.parseInt(value(args, ++i, arg, usage));
                case "--kafka-port" -> kafkaPort = Integer.parseInt(value(args, ++i, arg, usage));
                case "--work" -> work = Path.of(value(args, ++i, arg, usage));
                case "--timeout-s" -> timeoutMs = Long.parseLong(value(args, ++i, arg, usage)) * 1000;
                case "--cluster" -> clusterUrl = value(args, ++i, arg, usage);
                case "--bootstrap-servers" -> bootstrap = value(args, ++i, arg, usage);
                case "--run-name" -> runName = value(args, ++i, arg, usage);
                case "--from-savepoint" -> savepoint = value(args, ++i, arg, usage);
                case "--parallelism" -> parallelism = Integer.parseInt(value(args, ++i, arg, usage));
                case "--first" -> first = Integer.parseInt(value(args, ++i, arg, usage));
                case "--set" -> {
                    String kv = value(args, ++i, arg, usage);
                    int eq = kv.indexOf('=');
                    if (eq < 1) throw new IllegalArgumentException("--set expects option.key=value, got '" + kv + "'\nusage: " + usage);
                    settings.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
                case "--help", "-h" -> {
                    System.out.println("usage: " + usage);
                    System.exit(0);
                }
                default -> throw new IllegalArgumentException("unknown argument '" + arg + "'\nusage: " + usage);
            }
        }
        if (products < 1) throw new IllegalArgumentException("--products must be at least 1");
        if (timeoutMs < 0) timeoutMs = Math.max(120_000, products * 50L);
        if (savepoint != null && bootstrap == null) {
            throw new IllegalArgumentException("--from-savepoint needs --bootstrap-servers (and --run-name): a resumed job reads on from the "
                    + "offsets in its savepoint, in topics that must still exist; start a lasting broker with scripts/kafka-local start\nusage: " + usage);
        }
        if (parallelism != null) {
            // The job sets every operator's parallelism from indexer.parallelism (default 2), which overrides
            // the parallelism of a REST or web UI submission: --parallelism must reach the job as that option.
            String set = settings.putIfAbsent(PARALLELISM_OPTION, Integer.toString(parallelism));
            if (set != null && !set.equals(Integer.toString(parallelism))) {
                throw new IllegalArgumentException("--parallelism " + parallelism + " contradicts --set " + PARALLELISM_OPTION + "=" + set
                        + ": give one of them\nusage: " + usage);
            }
        }
        return new DemoArgs(products, rate, exit, report, webUiPort, kafkaPort, work, timeoutMs, settings,
                new Cluster(clusterUrl, bootstrap, runName, savepoint, parallelism, first), embeddedEvents);
    }

    private static String value(String[] args, int i, String name, String usage) {
        if (i >= args.length) throw new IllegalArgumentException(name + " needs a value\nusage: " + usage);
        return args[i];
    }
}
