package org.backstopmx.smtpin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntSupplier;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.Metrics.ProxyRefusal;
import org.backstopmx.core.Metrics.RejectReason;
import org.backstopmx.core.Metrics.ScreenCheck;
import org.backstopmx.core.Metrics.ScreenResult;
import org.backstopmx.core.SmtpReply;

/**
 * The receiving side's meters ({@link Metrics}): open connections, sessions, messages and bytes stored, refusals by
 * reason. Every counter is built up front (each {@code reason}, each served domain), so dashboards and alerts see
 * zeros before the first event and counting is an increment on a counter already at hand, never a registry lookup.
 *
 * <ul>
 *   <li>{@code sessions} counts every TCP connection accepted, including one then refused by the connection limit
 *       (it also counts once as {@code connection_limit});</li>
 *   <li>{@code connections.active} is the number of connections open and admitted now;</li>
 *   <li>{@code messages.received{domain}} counts a stored message once per served domain among its recipients (two
 *       recipients at one domain count once); {@code bytes.received} adds the bytes as stored, our
 *       {@code Received:} header included;</li>
 *   <li>{@code rejections{reason}} counts every 4xx/5xx reply sent, classified by its reply code and enhanced status
 *       code ({@link #reasonOf}), plus the replies written outside the protocol handler: connection limit, idle
 *       timeout, too many errors.</li>
 *   <li>{@code screen.decisions{check,result}} counts what client screening found ({@link ScreenHandler}):
 *       {@code dnsbl} and {@code dnswl} once per list asked ({@code listed}, {@code clean}, {@code timeout},
 *       {@code error}), {@code score} once per screened session and {@code pregreet} once per session with a greeting
 *       delay ({@code refused}, {@code passed}), {@code rate} once per connection and per MAIL of a client the rate
 *       limits apply to ({@code passed}, {@code connections}, {@code messages}: over a limit, {@link ClientRates}),
 *       {@code greylist} once per RCPT greylisting looked at ({@code passed}, {@code deferred}, {@code error},
 *       {@link Greylisting}),
 *       {@code spf} once per SPF check at MAIL FROM ({@link SpfHook}: the
 *       seven results of RFC 7208 §2.6);</li>
 *   <li>{@code proxy.refused{reason}} counts connections closed before their session by the PROXY protocol
 *       ({@link ProxyHeaderHandler}); they are not sessions and not in {@code connections.active}.</li>
 * </ul>
 *
 * <p>How replies map to reasons: {@code 550 5.7.1} relay_denied, {@code 550 5.1.1} unknown_recipient,
 * {@code 452 4.5.3} too_many_recipients, {@code 552 5.3.4} message_too_large (at MAIL SIZE or after the final dot),
 * {@code 554 5.6.0} line_too_long (a DATA line), {@code 554 5.5.2} bare_line_feed, {@code 554 5.4.6} mail_loop,
 * {@code 451 4.3.0} and {@code 452 4.3.1} storage, {@code 452 4.7.1} rate_limit (a MAIL over {@code screen.rate.*}; the
 * {@code 421 4.7.0} of a connection over it is counted there too), {@code 450 4.7.1} greylisted when its text is
 * {@link Replies#GREYLISTED}'s (else standby); syntax for command errors: any 500 (a command line too long
 * included), 501, 503, 504, 553 (address syntax), 555 (an unsupported MAIL or RCPT parameter), the pipelining violation {@code 554 5.5.0} and DATA without a
 * valid recipient {@code 554 5.5.1}, a malformed BDAT {@code 521 5.5.4}; everything else (ETRN refusals, EXPN, the 421 of an internal error, the 451 of a
 * command that failed locally) is other. The shutdown's {@code 421 4.3.2} is not a refusal and is not counted.
 *
 * <p>Thread-safe. One server per registry: the gauge reads the server that registered it first.
 */
final class SmtpMetrics {
    private static final Map<String, RejectReason> BY_REPLY = byReply();
    private static final Set<Integer> SYNTAX_CODES = Set.of(500, 501, 503, 504, 553, 555);

    private final MeterRegistry registry;
    private final Counter sessions;
    private final Counter bytesReceived;
    private final Counter[] rejections = new Counter[RejectReason.values().length];
    private final Counter[] proxyRefusals = new Counter[ProxyRefusal.values().length];
    private final Counter[][] screenDecisions = new Counter[ScreenCheck.values().length][ScreenResult.values().length];
    private volatile Map<String, Counter> receivedByDomain;
    private volatile Counter receivedOther;

    SmtpMetrics(MeterRegistry registry, Set<String> servedDomains) {
        this.registry = registry;
        sessions = Counter.builder(Metrics.SMTP_SESSIONS)
                .description("SMTP connections accepted, including those then refused by the connection limit")
                .register(registry);
        bytesReceived = Counter.builder(Metrics.SMTP_BYTES_RECEIVED)
                .description("Bytes of messages stored, as stored").baseUnit("bytes").register(registry);
        for (RejectReason reason : RejectReason.values()) {
            rejections[reason.ordinal()] = Counter.builder(Metrics.SMTP_REJECTIONS).tag("reason", reason.tag())
                    .description("Refusals sent to SMTP clients").register(registry);
        }
        for (ProxyRefusal reason : ProxyRefusal.values()) {
            proxyRefusals[reason.ordinal()] = Counter.builder(Metrics.SMTP_PROXY_REFUSED).tag("reason", reason.tag())
                    .description("Connections closed before their SMTP session because of the PROXY protocol")
                    .register(registry);
        }
        for (ScreenCheck check : ScreenCheck.values()) {
            for (ScreenResult result : check.results()) {
                screenDecisions[check.ordinal()][result.ordinal()] = Counter.builder(Metrics.SCREEN_DECISIONS)
                        .tag("check", check.tag()).tag("result", result.tag())
                        .description("What client screening found: each DNS list's answer, each verdict, each pregreet, rate and greylist test")
                        .register(registry);
            }
        }
        servedDomains(servedDomains);
    }

    /** Registers the open-connections gauge, read from {@code active}. */
    void activeConnections(IntSupplier active) {
        Gauge.builder(Metrics.SMTP_CONNECTIONS_ACTIVE, active, IntSupplier::getAsInt)
                .description("SMTP connections open now").strongReference(true).register(registry);
    }

    /**
     * Sets the served domains (at start and after a reload): each gets its {@code messages.received} series. The
     * series of a domain no longer served stays, with its count.
     */
    void servedDomains(Set<String> domains) {
        Map<String, Counter> m = new HashMap<>();
        for (String d : domains) {
            m.put(d, receivedCounter(d));
        }
        receivedByDomain = Map.copyOf(m);
    }

    private Counter receivedCounter(String domain) {
        return Counter.builder(Metrics.SMTP_MESSAGES_RECEIVED).tag("domain", domain)
                .description("Messages stored, once per served domain among their recipients").register(registry);
    }

    /** A TCP connection was accepted. */
    void session() {
        sessions.increment();
    }

    void reject(RejectReason reason) {
        rejections[reason.ordinal()].increment();
    }

    void proxyRefused(ProxyRefusal reason) {
        proxyRefusals[reason.ordinal()].increment();
    }

    /** A screening check came to {@code result}, one of {@link ScreenCheck#results()}. */
    void screened(ScreenCheck check, ScreenResult result) {
        screenDecisions[check.ordinal()][result.ordinal()].increment();
    }

    /** A 4xx or 5xx reply went to the client: counted under the reason its code says. */
    void refused(byte[] reply) {
        reject(reasonOf(reply));
    }

    /** A message was committed to the queue with these recipients and this many bytes. */
    void stored(List<EnvelopeRecipient> recipients, long bytes) {
        Map<String, Counter> byDomain = receivedByDomain;
        Counter[] counted = new Counter[recipients.size()];
        int n = 0;
        next:
        for (EnvelopeRecipient r : recipients) {
            Counter c = byDomain.get(r.domain());
            if (c == null) {
                // accepted for a domain that a reload has since removed
                c = other();
            }
            for (int i = 0; i < n; i++) {
                if (counted[i] == c) {
                    continue next;
                }
            }
            counted[n++] = c;
            c.increment();
        }
        bytesReceived.increment(bytes);
    }

    private Counter other() {
        Counter c = receivedOther;
        if (c == null) {
            c = receivedCounter(Metrics.OTHER);
            receivedOther = c;
        }
        return c;
    }

    /** The reason for a 4xx/5xx reply, from its first line: {@code code[ -]enhanced text}. */
    static RejectReason reasonOf(byte[] reply) {
        if (reply.length < 3 || !digit(reply[0]) || !digit(reply[1]) || !digit(reply[2])) {
            return RejectReason.OTHER;
        }
        int code = (reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0');
        int end = 3;
        if (reply.length > 4 && (reply[3] == ' ' || reply[3] == '-') && digit(reply[4])) {
            end = 4;
            while (end < reply.length && (digit(reply[end]) || reply[end] == '.')) {
                end++;
            }
        }
        String key = new String(reply, 0, end, StandardCharsets.US_ASCII).replace('-', ' ');
        RejectReason reason = BY_REPLY.get(key);
        if (reason == RejectReason.STORAGE && startsWith(reply, end + 1, Replies.COMMAND_FAILED.text())) {
            // same 451 4.3.0 as a failed queue write, but a command that failed for another reason
            return RejectReason.OTHER;
        }
        if (reason == RejectReason.STANDBY && startsWith(reply, end + 1, Replies.GREYLISTED.text())) {
            // the same 450 4.7.1 as standby mode's
            return RejectReason.GREYLISTED;
        }
        if (reason != null) {
            return reason;
        }
        return SYNTAX_CODES.contains(code) ? RejectReason.SYNTAX : RejectReason.OTHER;
    }

    private static boolean digit(byte b) {
        return b >= '0' && b <= '9';
    }

    private static boolean startsWith(byte[] bytes, int off, String prefix) {
        if (off < 0 || bytes.length - off < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (bytes[off + i] != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static Map<String, RejectReason> byReply() {
        Map<String, RejectReason> m = new HashMap<>();
        put(m, Replies.RELAY_DENIED, RejectReason.RELAY_DENIED);
        put(m, Replies.USER_UNKNOWN, RejectReason.UNKNOWN_RECIPIENT);
        put(m, Replies.RECIPIENT_UNVERIFIED, RejectReason.UNKNOWN_RECIPIENT);
        put(m, Replies.STANDBY, RejectReason.STANDBY);
        put(m, Replies.TOO_MANY_RECIPIENTS, RejectReason.TOO_MANY_RECIPIENTS);
        put(m, Replies.SIZE_EXCEEDED, RejectReason.MESSAGE_TOO_LARGE);
        put(m, Replies.DATA_LINE_TOO_LONG, RejectReason.LINE_TOO_LONG);
        put(m, Replies.BARE_LINE_ENDING, RejectReason.BARE_LINE_FEED);
        put(m, Replies.LOOP_DETECTED, RejectReason.MAIL_LOOP);
        put(m, Replies.RATE_MESSAGES, RejectReason.RATE_LIMIT);
        put(m, Replies.STORAGE_ERROR, RejectReason.STORAGE);
        put(m, Replies.STORAGE_FULL, RejectReason.STORAGE);
        put(m, Replies.INSUFFICIENT_STORAGE, RejectReason.STORAGE);
        put(m, Replies.COMMAND_LINE_TOO_LONG, RejectReason.SYNTAX);
        put(m, Replies.SYNCHRONIZATION, RejectReason.SYNTAX);
        put(m, Replies.DATA_NO_RECIPIENTS, RejectReason.SYNTAX);
        put(m, Replies.BDAT_SYNTAX, RejectReason.SYNTAX);
        return Map.copyOf(m);
    }

    private static void put(Map<String, RejectReason> m, SmtpReply reply, RejectReason reason) {
        RejectReason before = m.put(reply.code() + " " + reply.enhanced(), reason);
        if (before != null && before != reason) {
            throw new IllegalStateException(reply + " maps to both " + before + " and " + reason);
        }
    }
}
