package org.backstopmx.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The {@code smtp.*} keys: the listener and every limit of the receiving side.
 *
 * @param listen                {@code smtp.listen}: address and port to bind (default 127.0.0.1:2525 embedded, 0.0.0.0:25 in the example file)
 * @param maxMessageSize        {@code smtp.max-message-size}: bytes, advertised with SIZE (default 50MB)
 * @param maxRecipients         {@code smtp.max-recipients}: per message (default 100)
 * @param recipientOvershootLimit {@code smtp.recipient-overshoot-limit}: RCPTs over {@code max-recipients} in one
 *                              transaction answered 452 4.5.3 without counting towards {@code max-errors}
 *                              (Postfix's {@code smtpd_recipient_overshoot_limit}; default 1000)
 * @param maxConnections        {@code smtp.max-connections}: in total (default 500)
 * @param maxConnectionsPerIp   {@code smtp.max-connections-per-ip}: per client address (default 50, Postfix's
 *                              {@code smtpd_client_connection_count_limit}, above its destination concurrency of 20)
 * @param idleTimeout           {@code smtp.idle-timeout}: a client silent this long gets 421 and is disconnected (default 5m)
 * @param maxCommandLineLength  {@code smtp.max-command-line-length}: bytes of a command line with CRLF (default 2048)
 * @param maxLineLength         {@code smtp.max-line-length}: bytes of one DATA line with CRLF; longer lines fail the message (default 64KB)
 * @param maxErrors             {@code smtp.max-errors}: error replies in one session before 421 and disconnect (default 20)
 * @param maxReceivedHeaders    {@code smtp.max-received-headers}: more Received: headers than this is a loop, 554 5.4.6 (default 50)
 * @param workerThreads         {@code smtp.worker-threads}: threads that run SMTP commands and queue commits off the network loop (default 32)
 * @param postmaster            {@code smtp.postmaster}: where {@code RCPT TO:<Postmaster>} (no domain, RFC 5321 §4.5.1)
 *                              goes, an address at a served domain; null: {@code postmaster@} the served domain our
 *                              hostname is in, else the first served domain in alphabetical order
 * @param tls                   {@code smtp.tls}: STARTTLS certificate and key, or null for no STARTTLS
 * @param proxyProtocol         {@code smtp.proxy-protocol}: whether each connection starts with a PROXY protocol
 *                              header naming the real client (behind a load balancer); default off
 * @param proxyTrusted          {@code smtp.proxy-trusted}: the load balancers, the only peers whose PROXY header is
 *                              believed; any other peer is refused when {@code proxyProtocol} is not off (default none)
 * @param recordDeadline        {@code smtp.record-deadline}: a command line or DATA line, once begun, must arrive
 *                              whole within this (Postfix's {@code smtpd_per_record_deadline}; default 5m)
 * @param stressRecordDeadline  {@code smtp.stress-record-deadline}: the same while four fifths of
 *                              {@code max-connections} are open (default 10s, Postfix's timeout under stress)
 */
public record SmtpConfig(
        HostPort listen,
        long maxMessageSize,
        int maxRecipients,
        int recipientOvershootLimit,
        int maxConnections,
        int maxConnectionsPerIp,
        Duration idleTimeout,
        int maxCommandLineLength,
        int maxLineLength,
        int maxErrors,
        int maxReceivedHeaders,
        int workerThreads,
        String postmaster,
        TlsConfig tls,
        ProxyProtocol proxyProtocol,
        List<AddressRange> proxyTrusted,
        Duration recordDeadline,
        Duration stressRecordDeadline) {

    /** The default record deadline, and the one under stress. */
    public static final Duration RECORD_DEADLINE = Duration.ofMinutes(5);
    public static final Duration STRESS_RECORD_DEADLINE = Duration.ofSeconds(10);

    public SmtpConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(proxyProtocol, "proxyProtocol");
        Objects.requireNonNull(recordDeadline, "recordDeadline");
        Objects.requireNonNull(stressRecordDeadline, "stressRecordDeadline");
        proxyTrusted = List.copyOf(proxyTrusted);
    }

    /** With the default record deadlines. */
    public SmtpConfig(HostPort listen, long maxMessageSize, int maxRecipients, int recipientOvershootLimit,
            int maxConnections, int maxConnectionsPerIp, Duration idleTimeout, int maxCommandLineLength,
            int maxLineLength, int maxErrors, int maxReceivedHeaders, int workerThreads, String postmaster,
            TlsConfig tls, ProxyProtocol proxyProtocol, List<AddressRange> proxyTrusted) {
        this(listen, maxMessageSize, maxRecipients, recipientOvershootLimit, maxConnections, maxConnectionsPerIp,
                idleTimeout, maxCommandLineLength, maxLineLength, maxErrors, maxReceivedHeaders, workerThreads,
                postmaster, tls, proxyProtocol, proxyTrusted, RECORD_DEADLINE, STRESS_RECORD_DEADLINE);
    }

    public static SmtpConfig defaults() {
        return new SmtpConfig(new HostPort("127.0.0.1", 2525), 50L * 1024 * 1024, 100, 1000, 500, 50,
                Duration.ofMinutes(5), 2048, 65536, 20, 50, 32, null, null, ProxyProtocol.OFF, List.of());
    }

    public SmtpConfig withListen(HostPort newListen) {
        return new SmtpConfig(newListen, maxMessageSize, maxRecipients, recipientOvershootLimit, maxConnections,
                maxConnectionsPerIp,
                idleTimeout, maxCommandLineLength, maxLineLength, maxErrors, maxReceivedHeaders, workerThreads, postmaster, tls,
                proxyProtocol, proxyTrusted, recordDeadline, stressRecordDeadline);
    }

    public SmtpConfig withPostmaster(String newPostmaster) {
        return new SmtpConfig(listen, maxMessageSize, maxRecipients, recipientOvershootLimit, maxConnections,
                maxConnectionsPerIp,
                idleTimeout, maxCommandLineLength, maxLineLength, maxErrors, maxReceivedHeaders, workerThreads,
                newPostmaster, tls, proxyProtocol, proxyTrusted, recordDeadline, stressRecordDeadline);
    }

    public SmtpConfig withProxy(ProxyProtocol newProxyProtocol, List<AddressRange> newProxyTrusted) {
        return new SmtpConfig(listen, maxMessageSize, maxRecipients, recipientOvershootLimit, maxConnections,
                maxConnectionsPerIp,
                idleTimeout, maxCommandLineLength, maxLineLength, maxErrors, maxReceivedHeaders, workerThreads, postmaster, tls,
                newProxyProtocol, newProxyTrusted, recordDeadline, stressRecordDeadline);
    }

    public SmtpConfig withTls(TlsConfig newTls) {
        return new SmtpConfig(listen, maxMessageSize, maxRecipients, recipientOvershootLimit, maxConnections,
                maxConnectionsPerIp,
                idleTimeout, maxCommandLineLength, maxLineLength, maxErrors, maxReceivedHeaders, workerThreads, postmaster, newTls,
                proxyProtocol, proxyTrusted, recordDeadline, stressRecordDeadline);
    }

    public SmtpConfig withRecordDeadlines(Duration newDeadline, Duration newStressDeadline) {
        return new SmtpConfig(listen, maxMessageSize, maxRecipients, recipientOvershootLimit, maxConnections,
                maxConnectionsPerIp, idleTimeout, maxCommandLineLength, maxLineLength, maxErrors, maxReceivedHeaders,
                workerThreads, postmaster, tls, proxyProtocol, proxyTrusted, newDeadline, newStressDeadline);
    }
}
