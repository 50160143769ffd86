package org.backstopmx.core.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The {@code delivery.*} keys: how messages are handed on to the primaries. Defaults follow Postfix's where it has one.
 *
 * @param concurrency         {@code delivery.concurrency}: connections at most to one destination at once, 1 to 1000
 *                            (default 20, Postfix {@code default_destination_concurrency_limit})
 * @param connectionReuseTime {@code delivery.connection-reuse-time}: how long an idle connection to a destination is
 *                            kept open for the next message to it; zero means no reuse beyond the messages already
 *                            due for that destination (default 2s, Postfix {@code smtp_connection_cache_time_limit})
 * @param connectTimeout      {@code delivery.connect-timeout}: for the TCP connection to be established (default 30s,
 *                            Postfix {@code smtp_connect_timeout})
 * @param commandTimeout      {@code delivery.command-timeout}: for the reply to the greeting, EHLO, MAIL, RCPT, RSET,
 *                            QUIT and STARTTLS (default 5m, Postfix {@code smtp_helo_timeout} and its siblings)
 * @param dataTimeout         {@code delivery.data-timeout}: for the reply to DATA, for sending each block of the message,
 *                            and for the reply to the final dot (default 10m, Postfix {@code smtp_data_done_timeout})
 * @param tls                 {@code delivery.tls}: STARTTLS towards the primaries, unless a served domain sets its own
 *                            {@code domains.<name>.tls} (default {@link TlsMode#OPPORTUNISTIC})
 * @param delayWarning        {@code delivery.delay-warning}: after how long in the queue the sender gets a "delayed"
 *                            notice; {@link Duration#ZERO} (written {@code off} or {@code 0}) means no notice is ever
 *                            sent; never null. When set, shorter than {@code queue.lifetime} (default off, Postfix
 *                            {@code delay_warning_time})
 * @param bounceSizeLimit     {@code delivery.bounce-size-limit}: bytes; a returned original (RET=FULL) up to this size is
 *                            returned whole, a larger one with its headers only; 0 returns headers only, always
 *                            (default 1MB; Postfix's {@code bounce_size_limit} plays this part, with 50000 bytes)
 * @param tlsCaFile           {@code delivery.tls-ca-file}: PEM with the CA certificates that {@code tls: verify}
 *                            trusts instead of the JDK's trust store, or null (the default)
 */
public record DeliveryConfig(
        int concurrency,
        Duration connectionReuseTime,
        Duration connectTimeout,
        Duration commandTimeout,
        Duration dataTimeout,
        TlsMode tls,
        Duration delayWarning,
        long bounceSizeLimit,
        Path tlsCaFile) {

    /** Without {@code delivery.tls-ca-file}: the JDK's trust store. */
    public DeliveryConfig(int concurrency, Duration connectionReuseTime, Duration connectTimeout,
            Duration commandTimeout, Duration dataTimeout, TlsMode tls, Duration delayWarning, long bounceSizeLimit) {
        this(concurrency, connectionReuseTime, connectTimeout, commandTimeout, dataTimeout, tls, delayWarning,
                bounceSizeLimit, null);
    }

    public DeliveryConfig {
        Objects.requireNonNull(connectionReuseTime, "connectionReuseTime");
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(commandTimeout, "commandTimeout");
        Objects.requireNonNull(dataTimeout, "dataTimeout");
        Objects.requireNonNull(tls, "tls");
        Objects.requireNonNull(delayWarning, "delayWarning");
    }

    public static DeliveryConfig defaults() {
        return new DeliveryConfig(20, Duration.ofSeconds(2), Duration.ofSeconds(30), Duration.ofMinutes(5),
                Duration.ofMinutes(10), TlsMode.OPPORTUNISTIC, Duration.ZERO, 1024L * 1024);
    }

    /** Whether senders get a "delayed" notice at all ({@link #delayWarning()} is not zero). */
    public boolean warnsOfDelay() {
        return !delayWarning.isZero();
    }

    public DeliveryConfig withTls(TlsMode newTls) {
        return new DeliveryConfig(concurrency, connectionReuseTime, connectTimeout, commandTimeout, dataTimeout, newTls,
                delayWarning, bounceSizeLimit, tlsCaFile);
    }
}
