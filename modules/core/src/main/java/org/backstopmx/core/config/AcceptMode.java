package org.backstopmx.core.config;

import java.util.Locale;

/**
 * When a served domain's mail is taken: {@code domains.<name>.accept}. Written in the configuration in lower case with
 * a hyphen ({@code always}, {@code when-primary-down}).
 */
public enum AcceptMode {
    /** Always, like a classic backup MX. */
    ALWAYS,
    /**
     * Only while the probe sees the primary down ({@code accept.down-after} probes in a row); while it is up, RCPT gets
     * {@code 450 4.7.1} and the sender's MTA goes back to the primary, so spam aimed at backup MXs gains nothing.
     */
    WHEN_PRIMARY_DOWN;

    /** The name as written in the configuration. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
