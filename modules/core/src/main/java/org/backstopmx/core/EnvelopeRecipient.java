package org.backstopmx.core;

import java.util.Objects;

/**
 * One accepted recipient with its DSN parameters as the client gave them (RFC 3461 §4.1, §4.2).
 *
 * @param address the recipient address, as accepted ({@code local@domain}, domain in lower case)
 * @param dsnNotify the {@code NOTIFY} value ({@code NEVER} or a comma list of {@code SUCCESS,FAILURE,DELAY}), or null
 * @param orcpt   the {@code ORCPT} value ({@code addr-type;xtext}), or null
 */
public record EnvelopeRecipient(String address, String dsnNotify, String orcpt) {
    public EnvelopeRecipient {
        Objects.requireNonNull(address, "address");
    }

    public static EnvelopeRecipient of(String address) {
        return new EnvelopeRecipient(address, null, null);
    }

    /** The domain part of the address, in lower case. */
    public String domain() {
        return Addresses.domainOf(address);
    }
}
