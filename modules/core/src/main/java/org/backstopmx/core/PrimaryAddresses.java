package org.backstopmx.core;

import java.net.InetAddress;

/**
 * The addresses of the served domains' primaries, as last looked up: the receiving side never screens, limits,
 * greylists or SPF-checks them (a primary hands mail back, sends ETRN and takes part in callouts; refusing it would
 * refuse the domain's own traffic). Looked up by the delivering side; any thread.
 */
@FunctionalInterface
public interface PrimaryAddresses {
    /** No primary known: trusts nobody. */
    PrimaryAddresses NONE = client -> false;

    /** Whether {@code client} is an address of a served domain's primary. */
    boolean isPrimary(InetAddress client);
}
