package org.backstopmx.core;

import java.util.Optional;

/**
 * Standby mode at intake ({@code domains.<name>.accept: when-primary-down}): whether Backstop should send a sender back
 * to a served domain's primary instead of taking its mail. Filled by the forwarder, which probes those primaries and
 * decides with hysteresis; read by SMTP in at RCPT time, so it must answer at once from memory.
 */
public interface Standby {
    /** No domain stands by: mail is taken for every served domain (every domain {@code accept: always}). */
    Standby NEVER = domain -> Optional.empty();

    /**
     * The primary that {@code domain} (lower case) is left to now: its host name (or, before any probe answered, the
     * domain itself) while the domain is {@code when-primary-down} and its primary is seen up, so the recipient gets
     * {@code 450 4.7.1}. Empty while Backstop takes the domain's mail: its primary is down, or the domain is
     * {@code accept: always}, or it is not a served domain.
     */
    Optional<String> standingBy(String domain);
}
