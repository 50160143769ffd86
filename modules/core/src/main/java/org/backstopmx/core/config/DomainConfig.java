package org.backstopmx.core.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One served domain, {@code domains.<name>.*}.
 *
 * @param name           the domain, lower case, without a trailing dot
 * @param route          {@code route}: fixed primary instead of MX lookup, or null
 * @param recipients     {@code recipients}: the valid local parts (lower case), or null to accept any local part
 * @param recipientsFile {@code recipients-file}: a file with one address per line ({@code @domain} accepts the whole
 *                       domain; {@code #} starts a comment), or null
 * @param tls            {@code tls}: STARTTLS when delivering this domain's mail, or null for {@code delivery.tls}
 *                       (see {@link #tls(TlsMode)})
 * @param etrnFrom       {@code etrn-from}: addresses and prefixes that may send {@code ETRN} for this domain besides
 *                       the addresses its route resolves to (a primary behind NAT); empty by default
 * @param accept         {@code accept}: when this domain's mail is taken (default {@link AcceptMode#ALWAYS})
 */
public record DomainConfig(String name, HostPort route, Set<String> recipients, Path recipientsFile, TlsMode tls,
        List<AddressRange> etrnFrom, AcceptMode accept) {
    public DomainConfig {
        Objects.requireNonNull(name, "name");
        recipients = recipients == null ? null : Set.copyOf(recipients);
        etrnFrom = etrnFrom == null ? List.of() : List.copyOf(etrnFrom);
        accept = accept == null ? AcceptMode.ALWAYS : accept;
    }

    /** Taking mail always ({@code accept: always}). */
    public DomainConfig(String name, HostPort route, Set<String> recipients, Path recipientsFile, TlsMode tls,
            List<AddressRange> etrnFrom) {
        this(name, route, recipients, recipientsFile, tls, etrnFrom, AcceptMode.ALWAYS);
    }

    /** Without {@code etrn-from}. */
    public DomainConfig(String name, HostPort route, Set<String> recipients, Path recipientsFile, TlsMode tls) {
        this(name, route, recipients, recipientsFile, tls, List.of());
    }

    /** A domain without its own {@code tls}: {@code delivery.tls} applies. */
    public DomainConfig(String name, HostPort route, Set<String> recipients, Path recipientsFile) {
        this(name, route, recipients, recipientsFile, null);
    }

    public static DomainConfig acceptAll(String name) {
        return new DomainConfig(name, null, null, null, null);
    }

    /** This domain with {@code accept} set to {@code mode}. */
    public DomainConfig withAccept(AcceptMode mode) {
        return new DomainConfig(name, route, recipients, recipientsFile, tls, etrnFrom, mode);
    }

    /** Whether any recipient validation is configured for this domain. */
    public boolean validatesRecipients() {
        return recipients != null || recipientsFile != null;
    }

    /** This domain's own {@code tls}, or {@code fallback} ({@code delivery.tls}) when it sets none. */
    public TlsMode tls(TlsMode fallback) {
        return tls != null ? tls : Objects.requireNonNull(fallback, "fallback");
    }
}
