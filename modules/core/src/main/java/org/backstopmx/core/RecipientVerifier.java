package org.backstopmx.core;

import java.util.Objects;

/**
 * Whether a served domain's primary takes a recipient, for RCPT at intake ({@code recipient-check: callout}): asked
 * by SMTP in, answered by the forwarder (a callout to the primary, or the learned cache while it cannot be asked).
 *
 * <p>Call order and guarantees: {@link #verify} is called on an SMTP worker thread for each RCPT at a callout
 * domain; it returns within the configured {@code callout.timeout} (plus the time of one cache look-up) and never
 * throws for anything the network, the primary or the cache does: those become {@link Verdict#UNVERIFIED}.
 */
public interface RecipientVerifier {
    /** Nothing is asked: every recipient is valid (no callout domain, or a test). */
    RecipientVerifier NONE = address -> Verdict.VALID;

    /** What RCPT answers. */
    enum Kind {
        /** Accept it (the primary took it, or the cache knows it, or the admin chose to accept unknown ones). */
        VALID,
        /** 550 5.1.1, with the primary's text. */
        INVALID,
        /** 450 4.1.1: not known, and the primary cannot be asked now. */
        UNVERIFIED
    }

    /**
     * @param kind the answer
     * @param text for {@link Kind#INVALID}: the primary's reply text as it refused the address (or as the cache keeps
     *             it); otherwise null
     */
    record Verdict(Kind kind, String text) {
        public static final Verdict VALID = new Verdict(Kind.VALID, null);
        public static final Verdict UNVERIFIED = new Verdict(Kind.UNVERIFIED, null);

        public Verdict {
            Objects.requireNonNull(kind, "kind");
        }

        public static Verdict invalid(String text) {
            return new Verdict(Kind.INVALID, text);
        }
    }

    /** The verdict for {@code address} (local part as given, domain lower case) at a callout domain. */
    Verdict verify(String address);
}
