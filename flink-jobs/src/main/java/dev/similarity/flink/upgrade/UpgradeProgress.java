package dev.similarity.flink.upgrade;

/**
 * What the model upgrade counts to decide that the new model's index is complete:
 * <ul>
 *   <li>EXPECTED (walker -> tracker, keyed by {@code productId}): the product existed when the walk of
 *       {@code epoch} read it and was sent to the new model.</li>
 *   <li>LISTED (new model's list publisher -> tracker): the new model published a list or tombstone of the product.</li>
 *   <li>WALK_DONE (walker -> coordinator): subtask {@code subtask} of {@code subtasks} finished the walk of
 *       {@code epoch}, having sent {@code count} products.</li>
 *   <li>COUNT (tracker -> coordinator): {@code count} EXPECTED messages of {@code epoch} received, and the
 *       number of expected products still without a new-model list changed by {@code pendingDelta}.</li>
 * </ul>
 */
public record UpgradeProgress(Kind kind, String productId, long epoch, int subtask, int subtasks, long count,
                              long pendingDelta) {

    public enum Kind { EXPECTED, LISTED, WALK_DONE, COUNT }

    public static UpgradeProgress expected(String productId, long epoch) {
        return new UpgradeProgress(Kind.EXPECTED, productId, epoch, 0, 0, 0, 0);
    }

    public static UpgradeProgress listed(String productId) {
        return new UpgradeProgress(Kind.LISTED, productId, 0, 0, 0, 0, 0);
    }

    public static UpgradeProgress walkDone(long epoch, int subtask, int subtasks, long count) {
        return new UpgradeProgress(Kind.WALK_DONE, null, epoch, subtask, subtasks, count, 0);
    }

    public static UpgradeProgress count(long epoch, long received, long pendingDelta) {
        return new UpgradeProgress(Kind.COUNT, null, epoch, 0, 0, received, pendingDelta);
    }
}
