package dev.similarity.flink.upgrade;

/**
 * The new model's index is complete: {@code products} products were re-embedded in walk {@code epoch}
 * and every one of them has a list of the new model. Broadcast once to every {@link ModelSwitchGate}.
 */
public record ModelSwitch(long epoch, long products, long decidedAtMillis) {}
