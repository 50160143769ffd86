package org.backstopmx.core;

/**
 * What each served domain's primary offered the last time Backstop spoke to it (its EHLO reply, from deliveries and
 * probes), as far as intake cares: a message the primary is known to refuse (it needs an extension the primary
 * lacks, or it is larger than the primary's SIZE) is refused while the client is still there, instead of being
 * accepted and bounced later. Filled by the forwarder, read by SMTP in.
 */
public interface PrimaryCapabilities {
    /** Nothing learned: no primary is known to lack anything or to have a size limit. */
    PrimaryCapabilities UNKNOWN = (domain, extension) -> false;

    /**
     * Whether the primary of {@code domain} is known not to offer {@code extension}: false when it offers it and when
     * Backstop has not spoken to it yet.
     */
    boolean knownToLack(String domain, MailExtension extension);

    /**
     * The fixed message size limit the primary of {@code domain} advertised with SIZE (RFC 1870), in octets; 0 when
     * it gave none or Backstop has not spoken to it yet.
     */
    default long sizeLimit(String domain) {
        return 0;
    }
}
