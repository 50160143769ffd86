package org.backstopmx.core.config;

import java.util.Locale;

/**
 * Whether the SMTP listener expects a PROXY protocol header (HAProxy's PROXY protocol, versions 1 and 2) before the
 * SMTP session: {@code smtp.proxy-protocol}, written in lower case ({@code off}, {@code v1}, {@code v2}, {@code any}).
 * When not {@link #OFF}, every connection must come from {@code smtp.proxy-trusted} and start with a header of the
 * version named; the client address it carries is the session's client address.
 */
public enum ProxyProtocol {
    /** No header: the TCP peer is the client. */
    OFF,
    /** The text header, {@code PROXY TCP4 192.0.2.1 198.51.100.1 40000 25\r\n}. */
    V1,
    /** The binary header. */
    V2,
    /** Either version, told apart by the header's first bytes. */
    ANY;

    /** The name as written in the configuration. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether a header of {@code version} (1 or 2) is accepted. */
    public boolean accepts(int version) {
        return this == ANY || this == V1 && version == 1 || this == V2 && version == 2;
    }
}
