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
 * @param recipientCheck {@code recipient-check}: how RCPT decides whether a local part exists; null for the default,
 *                       {@code list} when {@code recipients} or {@code recipients-file} is set, else {@code none}
 * @param tlsFingerprints {@code tls-fingerprints}: SHA-256 of the primary's SubjectPublicKeyInfo, lower-case hex
 *                       without colons, for {@code tls: fingerprint}; several during a key rotation; empty by default
 */
public record DomainConfig(String name, HostPort route, Set<String> recipients, Path recipientsFile, TlsMode tls,
        List<AddressRange> etrnFrom, AcceptMode accept, RecipientCheck recipientCheck, List<String> tlsFingerprints) {
    public DomainConfig {
        tlsFingerprints = tlsFingerprints == null ? List.of() : List.copyOf(tlsFingerprints);
        Objects.requireNonNull(name, "name");
        recipients = recipients == null ? null : Set.copyOf(recipients);
        etrnFrom = etrnFrom == null ? List.of() : List.copyOf(etrnFrom);
        accept = accept == null ? AcceptMode.ALWAYS : accept;
        if (recipientCheck == null) {
            recipientCheck = recipients != null || recipientsFile != null ? RecipientCheck.LIST : RecipientCheck.NONE;
        }
    }

    /** Without {@code tls-fingerprints}. */
    public DomainConfig(String name, HostPort route, Set<String> recipients, Path recipientsFile, TlsMode tls,
            List<AddressRange> etrnFrom, AcceptMode accept, RecipientCheck recipientCheck) {
        this(name, route, recipients, recipientsFile, tls, etrnFrom, accept, recipientCheck, List.of());
    }

    /** This domain with {@code tls} and {@code tls-fingerprints} set. */
    public DomainConfig withTls(TlsMode mode, List<String> fingerprints) {
        return new DomainConfig(name, route, recipients, recipientsFile, mode, etrnFrom, accept, recipientCheck,
                fingerprints);
    }

    /** With the default {@code recipient-check}. */
    public DomainConfig(String name, HostPort route, Set<String> recipients, Path recipientsFile, TlsMode tls,
            List<AddressRange> etrnFrom, AcceptMode accept) {
        this(name, route, recipients, recipientsFile, tls, etrnFrom, accept, null);
    }

    /** Taking mail always, with this {@code recipient-check}. */
    public DomainConfig(String name, HostPort route, Set<String> recipients, Path recipientsFile, TlsMode tls,
            List<AddressRange> etrnFrom, RecipientCheck recipientCheck) {
        this(name, route, recipients, recipientsFile, tls, etrnFrom, AcceptMode.ALWAYS, recipientCheck);
    }

    /** Taking mail always ({@code accept: always}). */
    public DomainConfig(String name, HostPort route, Set<String> recipients, Path recipientsFile, TlsMode tls,
            List<AddressRange> etrnFrom) {
        this(name, route, recipients, recipientsFile, tls, etrnFrom, AcceptMode.ALWAYS, null);
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
        return new DomainConfig(name, route, recipients, recipientsFile, tls, etrnFrom, mode, recipientCheck,
                tlsFingerprints);
    }

    /** Whether any recipient validation is configured for this domain (a list, a callout, or both). */
    public boolean validatesRecipients() {
        return recipientCheck != RecipientCheck.NONE;
    }

    /** Whether RCPT asks the primary ({@code recipient-check: callout}). */
    public boolean callout() {
        return recipientCheck == RecipientCheck.CALLOUT;
    }

    /** This domain with {@code recipient-check} set to {@code check}. */
    public DomainConfig withRecipientCheck(RecipientCheck check) {
        return new DomainConfig(name, route, recipients, recipientsFile, tls, etrnFrom, accept, check, tlsFingerprints);
    }

    /** This domain's own {@code tls}, or {@code fallback} ({@code delivery.tls}) when it sets none. */
    public TlsMode tls(TlsMode fallback) {
        return tls != null ? tls : Objects.requireNonNull(fallback, "fallback");
    }
}
