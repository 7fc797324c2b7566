package dev.similarity.flink.demo;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Command-line arguments shared by the demo and the benchmarks. */
record DemoArgs(int products, double rate, boolean exit, Path report, int webUiPort, int kafkaPort, Path work,
                long timeoutMs, Map<String, String> settings) {

    static DemoArgs parse(String[] args, String usage) {
        int products = 10_000;
        double rate = 0;
        boolean exit = false;
        Path report = null;
        int webUiPort = 8081;
        int kafkaPort = 0;
        Path work = Path.of("work");
        long timeoutMs = -1;
        Map<String, String> settings = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--exit" -> exit = true;
                case "--products" -> products = Integer.parseInt(value(args, ++i, arg, usage));
                case "--rate" -> rate = Double.parseDouble(value(args, ++i, arg, usage));
                case "--report" -> report = Path.of(value(args, ++i, arg, usage));
                case "--web-ui-port" -> webUiPort = Integer.parseInt(value(args, ++i, arg, usage));
                case "--kafka-port" -> kafkaPort = Integer.parseInt(value(args, ++i, arg, usage));
                case "--work" -> work = Path.of(value(args, ++i, arg, usage));
                case "--timeout-s" -> timeoutMs = Long.parseLong(value(args, ++i, arg, usage)) * 1000;
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
        return new DemoArgs(products, rate, exit, report, webUiPort, kafkaPort, work, timeoutMs, settings);
    }

    private static String value(String[] args, int i, String name, String usage) {
        if (i >= args.length) throw new IllegalArgumentException(name + " needs a value\nusage: " + usage);
        return args[i];
    }
}
