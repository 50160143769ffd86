package org.backstopmx.core.config;

import java.util.Locale;

/** What becomes of a recipient still undelivered at the end of {@code queue.lifetime}: {@code queue.at-expiry}. */
public enum AtExpiry {
    /** It expires and the sender gets a bounce (Postfix's {@code maximal_queue_lifetime}). */
    BOUNCE,
    /**
     * It is held ({@code HELD}) instead, no bounce: for admins who would rather hand mail over by hand after a long
     * outage ({@code queue release}, or {@code queue bounce} to return it after all).
     */
    HOLD;

    /** The name as written in the configuration. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
