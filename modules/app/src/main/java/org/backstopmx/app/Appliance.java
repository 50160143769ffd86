package org.backstopmx.app;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Random;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.RetryPolicy;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.forwarder.DnsjavaMxResolver;
import org.backstopmx.forwarder.RouteResolver;
import org.backstopmx.forwarder.delivery.Forwarder;
import org.backstopmx.forwarder.delivery.ForwarderSettings;
import org.backstopmx.queue.H2MailQueue;
import org.backstopmx.smtpin.SmtpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Backstop: the durable queue, the forwarder that drains it, and the SMTP listener in front of it. Start
 * order is queue first (its recovery runs before any client is let in), then the forwarder, then SMTP; stop order is
 * the reverse, so no session can reach a closed queue and no delivery outlives it.
 */
public final class Appliance implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Appliance.class);

    private final BackstopConfig config;
    private final MailQueue queue;
    private final Forwarder forwarder;
    private final SmtpServer smtp;

    private Appliance(BackstopConfig config, MailQueue queue, Forwarder forwarder, SmtpServer smtp) {
        this.config = config;
        this.queue = queue;
        this.forwarder = forwarder;
        this.smtp = smtp;
    }

    /** Opens the queue, starts delivering and starts listening. On failure nothing is left running. */
    public static Appliance start(BackstopConfig config, Clock clock) throws Exception {
        MailQueue queue = H2MailQueue.open(config.queue(), config.smtp().maxMessageSize(), clock);
        Forwarder forwarder = null;
        SmtpServer smtp = null;
        try {
            Random random = new Random(); // thread-safe: MX shuffling and backoff jitter
            DnsjavaMxResolver dns = new DnsjavaMxResolver(config.dns());
            RouteResolver routes = new RouteResolver(config, dns, random);
            RetryPolicy retry = new RetryPolicy(config.retry(), config.queue().lifetime(), random);
            forwarder = new Forwarder(ForwarderSettings.from(config), queue, routes, dns, retry, clock);
            forwarder.start();
            smtp = new SmtpServer(config.hostname(), config.smtp(), config.domains(), queue, forwarder, clock);
            smtp.start();
        } catch (Exception | Error e) {
            if (smtp != null) {
                smtp.close();
            }
            if (forwarder != null) {
                forwarder.close();
            }
            queue.close();
            throw e;
        }
        LOG.info("Backstop MX started: {} serving {} on {}, queue {}", config.hostname(),
                String.join(",", config.domains().keySet().stream().sorted().toList()), smtp.localAddress(),
                config.queue().path().toAbsolutePath());
        return new Appliance(config, queue, forwarder, smtp);
    }

    public InetSocketAddress smtpAddress() {
        return smtp.localAddress();
    }

    public MailQueue queue() {
        return queue;
    }

    public Forwarder forwarder() {
        return forwarder;
    }

    public BackstopConfig config() {
        return config;
    }

    @Override
    public void close() {
        LOG.info("Backstop MX stopping");
        smtp.close();
        forwarder.close();
        queue.close();
        LOG.info("Backstop MX stopped");
    }
}
