package org.backstopmx.app;

import java.net.InetSocketAddress;
import java.time.Clock;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.smtpin.SmtpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Backstop: the durable queue and the SMTP listener in front of it. Start order is queue first (its
 * recovery runs before any client is let in), then SMTP; stop order is the reverse, so no session can reach a
 * closed queue.
 */
public final class Appliance implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Appliance.class);

    private final BackstopConfig config;
    private final MailQueue queue;
    private final SmtpServer smtp;

    private Appliance(BackstopConfig config, MailQueue queue, SmtpServer smtp) {
        this.config = config;
        this.queue = queue;
        this.smtp = smtp;
    }

    /** Opens the queue and starts listening. On failure nothing is left running. */
    public static Appliance start(BackstopConfig config, Clock clock) throws Exception {
        MailQueue queue = H2MailQueue.open(config.queue(), config.smtp().maxMessageSize(), clock);
        SmtpServer smtp = null;
        try {
            smtp = new SmtpServer(config.hostname(), config.smtp(), config.domains(), queue, clock);
            smtp.start();
        } catch (Exception | Error e) {
            if (smtp != null) {
                smtp.close();
            }
            queue.close();
            throw e;
        }
        LOG.info("Backstop MX started: {} serving {} on {}, queue {}", config.hostname(),
                String.join(",", config.domains().keySet().stream().sorted().toList()), smtp.localAddress(),
                config.queue().path().toAbsolutePath());
        return new Appliance(config, queue, smtp);
    }

    public InetSocketAddress smtpAddress() {
        return smtp.localAddress();
    }

    public MailQueue queue() {
        return queue;
    }

    public BackstopConfig config() {
        return config;
    }

    @Override
    public void close() {
        LOG.info("Backstop MX stopping");
        smtp.close();
        queue.close();
        LOG.info("Backstop MX stopped");
    }
}
