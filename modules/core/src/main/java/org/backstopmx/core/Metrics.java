package org.backstopmx.core;

/**
 * The names of Backstop's metrics, in Micrometer's dotted form, in one place: the Prometheus registry turns
 * {@code backstop.queue.messages} into {@code backstop_queue_messages}, counters get {@code _total}, durations
 * {@code _seconds}. The Grafana board and the alert rules use the Prometheus names; a test keeps them in step.
 *
 * <p>Label values come from configuration (served domains, destinations) or from the small enums below, never from
 * message content, so the number of series stays bounded. A domain that is not served (a bounce's destination) is
 * reported as {@value #OTHER}.
 */
public final class Metrics {
    /** The label value for every domain that is not a served domain. */
    public static final String OTHER = "other";

    // ---- queue (gauges)
    /** Messages in the queue. */
    public static final String QUEUE_MESSAGES = "backstop.queue.messages";
    /** Bytes of message bodies in the queue. */
    public static final String QUEUE_BYTES = "backstop.queue.bytes";
    /** Recipients in the queue, tags {@code state} (lower case) and {@code domain}. */
    public static final String QUEUE_RECIPIENTS = "backstop.queue.recipients";
    /** Age of the oldest message with a pending recipient, tag {@code domain}. */
    public static final String QUEUE_OLDEST_AGE = "backstop.queue.oldest.age";
    /**
     * Recipients still to be tried (QUEUED, DEFERRED) that expire within {@code queue.expiry-warning}, tag
     * {@code domain}: mail about to bounce (or be held) after a long outage of its primary.
     */
    public static final String QUEUE_EXPIRING = "backstop.queue.expiring.recipients";
    /** 1 while the queue takes mail (open, its database usable), else 0. */
    public static final String QUEUE_WRITABLE = "backstop.queue.writable";
    /** Gauge: entries in the queue's {@code quarantine/} (spool files it could not read, databases set aside). */
    public static final String QUEUE_QUARANTINED = "backstop.queue.quarantined";
    /** Gauge: connections of the queue database's pool in use. */
    public static final String QUEUE_DB_CONNECTIONS = "backstop.queue.db.connections.active";
    /** Gauge: size of the queue database file in bytes. */
    public static final String QUEUE_DB_SIZE = "backstop.queue.db.size";
    /** Histogram: from receipt to delivery of a recipient. */
    public static final String QUEUE_RESIDENCE = "backstop.queue.residence";

    // ---- smtp-in
    /** Gauge: SMTP connections open now. */
    public static final String SMTP_CONNECTIONS_ACTIVE = "backstop.smtp.connections.active";
    /** Counter: SMTP sessions (connections accepted). */
    public static final String SMTP_SESSIONS = "backstop.smtp.sessions";
    /** Counter: messages stored, tag {@code domain} (once per served domain among its recipients). */
    public static final String SMTP_MESSAGES_RECEIVED = "backstop.smtp.messages.received";
    /** Counter: bytes of messages stored. */
    public static final String SMTP_BYTES_RECEIVED = "backstop.smtp.bytes.received";
    /** Counter: refusals, tag {@code reason} (see {@link RejectReason}). */
    public static final String SMTP_REJECTIONS = "backstop.smtp.rejections";
    /**
     * Counter: connections closed before their SMTP session because of the PROXY protocol, tag {@code reason} (see
     * {@link ProxyRefusal}).
     */
    public static final String SMTP_PROXY_REFUSED = "backstop.smtp.proxy.refused";
    /**
     * Counter: what client screening found, tags {@code check} (see {@link ScreenCheck}) and {@code result} (see
     * {@link ScreenResult}); only the pairs {@link ScreenCheck#results()} names exist.
     */
    public static final String SCREEN_DECISIONS = "backstop.screen.decisions";

    // ---- forwarder
    /** Counter: recipient outcomes, tags {@code destination} (domain) and {@code result} (see {@link AttemptResult}). */
    public static final String DELIVERY_ATTEMPTS = "backstop.delivery.attempts";
    /**
     * Counter: STARTTLS outcomes of sessions opened to a primary, tags {@code destination}, {@code level} (the TLS level:
     * {@code none}, {@code opportunistic}, {@code required}, {@code verify}, {@code fingerprint}, {@code mta-sts},
     * {@code dane}) and {@code result} ({@code verified}, {@code encrypted}, {@code plain}, or a failure:
     * {@code starttls-not-offered}, {@code handshake-failed}, {@code untrusted}, {@code name-mismatch},
     * {@code expired}, {@code pin-mismatch}, {@code sts-mx-mismatch}, {@code sts-policy-unavailable},
     * {@code dane-bogus}, {@code dane-lookup-failed}, {@code dane-mismatch}). At {@code mta-sts} a {@code testing}
     * policy's failures are counted with their reason and the session that then carries the mail once more. At
     * {@code dane}, {@code encrypted} and {@code plain} are sessions DANE did not apply to (an unsigned zone, no TLSA
     * records).
     */
    public static final String DELIVERY_TLS = "backstop.delivery.tls";
    /** Histogram: one message's delivery over SMTP (MAIL to the reply to the final dot, or the failure). */
    public static final String DELIVERY_DURATION = "backstop.delivery.duration";
    /** Counter: DSNs queued, tag {@code reason}: {@code failed}, {@code expired}, {@code delayed}. */
    public static final String BOUNCES = "backstop.bounces";
    /**
     * Counter: DSNs not sent because their sender may be forged (backscatter), tag {@code reason} (see
     * {@link BounceSuppression}).
     */
    public static final String BOUNCES_SUPPRESSED = "backstop.bounces.suppressed";
    /** Gauge: 1 when the destination (tag {@code destination}) is up, 0 while it is marked down. */
    public static final String DESTINATION_UP = "backstop.destination.up";
    /**
     * Gauge: 1 while Backstop takes mail for the served domain (tag {@code domain}), 0 while it is in standby mode and
     * leaves the mail to its primary ({@code accept: when-primary-down} with the primary up).
     */
    public static final String DOMAIN_ACCEPTING = "backstop.domain.accepting";
    /** Counter: route lookups, tag {@code result}: {@code ok}, {@code nodata}, {@code nxdomain}, {@code nullmx}, {@code temporary}. */
    public static final String DNS_LOOKUPS = "backstop.dns.lookups";
    /**
     * Gauge: 1 when the served domain's MX records make us its backup (tag {@code domain}), else 0; tag
     * {@code reason} says why ({@code ok}, {@code not_listed}, {@code most_preferred}, {@code primary_unresolvable},
     * {@code shared_preference}, {@code no_mx}, {@code dns_error}).
     */
    public static final String MX_CONFIG_OK = "backstop.mx.config.ok";
    /** Counter: callouts to a primary at RCPT time, tags {@code domain} and {@code result} (see {@link CalloutResult}). */
    public static final String CALLOUTS = "backstop.callouts";
    /** Counter: RCPTs at a callout domain answered from the cache, tags {@code domain} and {@code result} (valid, invalid). */
    public static final String CALLOUT_CACHE_HITS = "backstop.callout.cache.hits";
    /** Gauge: recipients the cache knows (not expired), tag {@code domain}. */
    public static final String RECIPIENT_CACHE_ENTRIES = "backstop.recipient.cache.entries";

    /** What a callout came to: the {@code result} tag of {@link #CALLOUTS}. */
    public enum CalloutResult {
        /** The primary accepted the address. */
        VALID,
        /** The primary refused it with 5xx. */
        INVALID,
        /** 4xx, timeout, no answer, no free session: the primary could not be asked. */
        UNREACHABLE,
        /** A made-up local part was accepted too: the primary takes any address (counted besides VALID). */
        CATCH_ALL;

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Why a client was refused: the {@code reason} tag of {@link #SMTP_REJECTIONS}. */
    public enum RejectReason {
        RELAY_DENIED, UNKNOWN_RECIPIENT, STANDBY, TOO_MANY_RECIPIENTS, MESSAGE_TOO_LARGE, CONNECTION_LIMIT, IDLE_TIMEOUT,
        SLOW_CLIENT, TOO_MANY_ERRORS, LINE_TOO_LONG, BARE_LINE_FEED, MAIL_LOOP, STORAGE, SYNTAX, RATE_LIMIT,
        GREYLISTED, OTHER;

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Why a connection was refused before its session: the {@code reason} tag of {@link #SMTP_PROXY_REFUSED}. */
    public enum ProxyRefusal {
        /** The peer is not in {@code smtp.proxy-trusted}. */
        UNTRUSTED,
        /** No complete header in time, or the connection ended before one. */
        MISSING,
        /** Bytes that are not a PROXY header (a client speaking SMTP at once included), or a malformed one. */
        INVALID,
        /** A well-formed header of the version the listener does not take. */
        WRONG_VERSION,
        /** A header for something other than TCP over IPv4 or IPv6 (UDP, UNIX sockets). */
        UNSUPPORTED;

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What client screening checked: the {@code check} tag of {@link #SCREEN_DECISIONS}. */
    public enum ScreenCheck {
        /** One DNS block list asked about one client. */
        DNSBL,
        /** One DNS allow list asked about one client. */
        DNSWL,
        /** A client's summed score against {@code screen.threshold}: refused or passed, once a screened session. */
        SCORE,
        /** Whether a client waited for the delayed greeting: refused or passed, once a session. */
        PREGREET,
        /**
         * The rate limits of {@code screen.rate.*}: once per connection and once per MAIL of a client not trusted,
         * passed or over a limit of connections or of messages.
         */
        RATE,
        /**
         * Greylisting ({@code screen.greylist}): once per RCPT of a client neither trusted nor allow-listed, passed,
         * deferred, or error (the greylist could not be read or written: passed).
         */
        GREYLIST,
        /** The SPF check of a MAIL FROM (RFC 7208): its result, once a checked transaction. */
        SPF;

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** The results this check can have. */
        public java.util.List<ScreenResult> results() {
            return switch (this) {
                case DNSBL, DNSWL -> java.util.List.of(ScreenResult.LISTED, ScreenResult.CLEAN, ScreenResult.TIMEOUT,
                        ScreenResult.ERROR);
                case SCORE, PREGREET -> java.util.List.of(ScreenResult.REFUSED, ScreenResult.PASSED);
                case RATE -> java.util.List.of(ScreenResult.PASSED, ScreenResult.CONNECTIONS, ScreenResult.MESSAGES);
                case GREYLIST -> java.util.List.of(ScreenResult.PASSED, ScreenResult.DEFERRED, ScreenResult.ERROR);
                case SPF -> java.util.List.of(ScreenResult.PASS, ScreenResult.FAIL, ScreenResult.SOFTFAIL,
                        ScreenResult.NEUTRAL, ScreenResult.NONE, ScreenResult.TEMPERROR, ScreenResult.PERMERROR);
            };
        }
    }

    /** The {@code result} tag of {@link #SCREEN_DECISIONS}. */
    public enum ScreenResult {
        /** The list names the client with an answer its {@code match} accepts. */
        LISTED,
        /** NXDOMAIN, no A record, or only answers its {@code match} refuses. */
        CLEAN,
        /** No answer within {@code dns.timeout}: counted as not listed. */
        TIMEOUT,
        /** SERVFAIL, REFUSED or a network error: counted as not listed; a greylist that cannot be used: passed. */
        ERROR,
        /** The client is refused (its score reached the threshold; it talked before the greeting). */
        REFUSED,
        /** The client goes on. */
        PASSED,
        /** Over a connection limit: the connection is closed with {@code 421 4.7.0}. */
        CONNECTIONS,
        /** Over a message limit: the MAIL is answered {@code 452 4.7.1}. */
        MESSAGES,
        /** A first try, or a retry before the greylist delay: the RCPT is answered {@code 450 4.7.1}. */
        DEFERRED,
        /** SPF results (RFC 7208 §2.6), named as {@link SpfResult#keyword()}. */
        PASS, FAIL, SOFTFAIL, NEUTRAL, NONE, TEMPERROR, PERMERROR;

        /** The SPF result as a {@code result} tag of the {@code spf} check. */
        public static ScreenResult of(SpfResult spf) {
            return valueOf(spf.name());
        }

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Why a DSN was not sent: the {@code reason} tag of {@link #BOUNCES_SUPPRESSED}. */
    public enum BounceSuppression {
        /** The sender failed SPF at intake. */
        SPF_FAIL,
        /** The sender did not pass SPF at intake, with {@code screen.bounce-only-spf-pass: true}. */
        SPF_NOT_PASS;

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What became of a recipient in one attempt: the {@code result} tag of {@link #DELIVERY_ATTEMPTS}. */
    public enum AttemptResult {
        DELIVERED, DEFERRED, FAILED, EXPIRED;

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private Metrics() {
    }
}
