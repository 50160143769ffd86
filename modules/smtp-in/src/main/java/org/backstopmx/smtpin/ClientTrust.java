package org.backstopmx.smtpin;

import java.net.InetAddress;
import org.backstopmx.core.PrimaryAddresses;
import org.backstopmx.core.config.ScreenConfig;

/**
 * Who is never screened (DNS lists, rate limits, greylisting, SPF): the clients of {@code screen.trusted}, and the
 * served domains' primaries always, whatever their addresses are now ({@link PrimaryAddresses}). One answer for
 * every check, so no check can forget a primary.
 */
final class ClientTrust {
    private final ScreenConfig screen;
    private final PrimaryAddresses primaries;

    ClientTrust(ScreenConfig screen, PrimaryAddresses primaries) {
        this.screen = screen;
        this.primaries = primaries;
    }

    /** {@code screen.trusted} alone. */
    static ClientTrust of(ScreenConfig screen) {
        return new ClientTrust(screen, PrimaryAddresses.NONE);
    }

    boolean trusts(InetAddress client) {
        return screen.trusts(client) || primaries.isPrimary(client);
    }
}
