package org.backstopmx.core.config;

/**
 * The {@code accept.*} keys: standby mode ({@code domains.<name>.accept: when-primary-down}).
 *
 * @param downAfter {@code accept.down-after} (default 2): probes in a row that must find the primary down before its
 *                  domain's mail is taken, and that must find it up before the domain is refused again (hysteresis
 *                  both ways, the same count, so one lost probe does not flip it)
 */
public record AcceptConfig(int downAfter) {
    public AcceptConfig {
        if (downAfter < 1) {
            throw new IllegalArgumentException("accept.down-after must be positive: " + downAfter);
        }
    }

    public static AcceptConfig defaults() {
        return new AcceptConfig(2);
    }
}
