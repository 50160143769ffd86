package org.backstopmx.app;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.backstopmx.core.Liveness;
import org.backstopmx.core.MailQueue;
import org.backstopmx.app.admin.AdminServer;
import org.backstopmx.app.admin.AdminToken;
import org.backstopmx.app.admin.LiveQueueAdmin;
import org.backstopmx.app.admin.QueueViews;
import org.backstopmx.app.metrics.BackstopMetrics;
import org.backstopmx.app.metrics.MetricsServer;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.forwarder.CountingMxResolver;
import org.backstopmx.forwarder.DnsjavaMxResolver;
import org.backstopmx.forwarder.MxResolver;
import org.backstopmx.forwarder.MxSanityCheck;
import org.backstopmx.forwarder.delivery.Forwarder;
import org.backstopmx.queue.QueueMetrics;
import org.backstopmx.smtpin.RecipientDirectory;
import org.backstopmx.smtpin.SmtpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Backstop: the durable queue, the forwarder that drains it, the SMTP listener in front of it, and the
 * metrics and health endpoint. Start order is queue first (its recovery runs before any client is let in), then the
 * forwarder, then SMTP, then metrics; stop order is the reverse, so no session can reach a closed queue and no
 * delivery outlives it. One Micrometer registry is fed by every part, and one {@link Liveness} is where every
 * background loop beats ({@code /health/live}).
 */
public final class Appliance implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Appliance.class);
    /** How often the per-domain queue gauges are recomputed. */
    private static final Duration QUEUE_METRICS_REFRESH = Duration.ofSeconds(15);

    private volatile BackstopConfig config;
    private final Liveness liveness;
    private final BackstopMetrics metrics;
    private final MailQueue queue;
    /** The queue's gauges: {@link QueueMetrics} on H2, {@code PostgresQueueMetrics} on the shared queue. */
    private final AutoCloseable queueMetrics;
    private final Forwarder forwarder;
    private final SmtpServer smtp;
    private final MetricsServer metricsServer;
    private final AdminServer admin;
    private final MxConfigWatch mxWatch;
    private final ScheduledExecutorService mxChecks;

    private Appliance(BackstopConfig config, Liveness liveness, BackstopMetrics metrics, MailQueue queue,
            AutoCloseable queueMetrics, Forwarder forwarder, SmtpServer smtp, MetricsServer metricsServer,
            AdminServer admin) {
        this.config = config;
        this.liveness = liveness;
        this.metrics = metrics;
        this.queue = queue;
        this.queueMetrics = queueMetrics;
        this.forwarder = forwarder;
        this.smtp = smtp;
        this.metricsServer = metricsServer;
        this.admin = admin;
        // the MX sanity check runs on a thread of its own (DNS may be slow, and nothing waits for it), with a resolver
        // of its own so that its lookups are not counted as the forwarder's route lookups
        this.mxWatch = new MxConfigWatch(this::config, new DnsjavaMxResolver(config.dns()), metrics.registry());
        this.mxChecks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mx-check");
            t.setDaemon(true);
            return t;
        });
        mxWatch.start(mxChecks);
    }

    /** Opens the queue, starts delivering, listening and serving metrics. On failure nothing is left running. */
    public static Appliance start(BackstopConfig config, Clock clock) throws Exception {
        BackstopMetrics metrics = new BackstopMetrics();
        Liveness liveness = new Liveness(clock);
        PrometheusMeterRegistry registry = metrics.registry();
        MailQueue queue = null;
        AutoCloseable queueMetrics = null;
        Forwarder forwarder = null;
        SmtpServer smtp = null;
        MetricsServer metricsServer = null;
        try {
            QueueChoice chosen = QueueChoice.open(config, clock, liveness);
            queue = chosen.queue();
            if (chosen.h2() != null) {
                queueMetrics = QueueMetrics.bind(chosen.h2(), registry, config.servedDomains(), clock,
                        QUEUE_METRICS_REFRESH, liveness, config.queue());
            } else {
                // cluster-wide: every node reports the whole shared queue
                queueMetrics = org.backstopmx.queue.postgres.PostgresQueueMetrics.bind(chosen.shared(), registry,
                        config.servedDomains(), clock, QUEUE_METRICS_REFRESH, liveness, config.queue());
            }
            MxResolver dns = new CountingMxResolver(new DnsjavaMxResolver(config.dns()), registry);
            forwarder = Forwarder.of(config, queue, chosen.recipients(), dns, registry, clock);
            forwarder.start(liveness);
            smtp = new SmtpServer(config.hostname(), config.smtp(), config.domains(), queue, forwarder, clock,
                    registry, forwarder.primaryCapabilities(), forwarder.standby(), forwarder.recipientVerifier(),
                    config.screen(), config.dns(), chosen.greylist(), forwarder.primaryAddresses());
            smtp.start();
            metricsServer = startMetrics(config, registry, liveness, chosen.whyNotWritable(), smtp);
            AdminServer admin = startAdmin(config, chosen, forwarder, clock);
            LOG.info("Backstop MX started: {} serving {} on {}, queue {}", config.hostname(),
                    String.join(",", config.domains().keySet().stream().sorted().toList()), smtp.localAddress(),
                    chosen.where());
            return new Appliance(config, liveness, metrics, queue, queueMetrics, forwarder, smtp, metricsServer, admin);
        } catch (Exception | Error e) {
            if (metricsServer != null) {
                metricsServer.close();
            }
            if (smtp != null) {
                smtp.close();
            }
            if (forwarder != null) {
                forwarder.close();
            }
            closeQuietly(queueMetrics);
            if (queue != null) {
                queue.close();
            }
            metrics.close();
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable gauges) {
        if (gauges == null) {
            return;
        }
        try {
            gauges.close();
        } catch (Exception e) {
            LOG.warn("queue gauges did not stop cleanly: {}", e.toString());
        }
    }

    private static MetricsServer startMetrics(BackstopConfig config, PrometheusMeterRegistry registry,
            Liveness liveness, java.util.function.Supplier<Optional<String>> whyNotWritable, SmtpServer smtp) {
        HostPort listen = config.metrics().listen();
        try {
            return MetricsServer.start(listen, registry, liveness::problem, () -> {
                Optional<String> queueProblem = whyNotWritable.get();
                if (queueProblem.isPresent()) {
                    return Optional.of("the queue does not take mail: " + queueProblem.get());
                }
                if (smtp.localAddress() == null) {
                    return Optional.of("the SMTP listener is not bound");
                }
                return Optional.empty();
            });
        } catch (IOException e) {
            throw new IllegalStateException("metrics.listen: cannot listen on " + listen + ": " + e.getMessage(), e);
        }
    }

    /**
     * The admin API on the chosen queue: on the shared one, every node's mail is listed, counted and changed from any
     * node; a generated token is kept in this node's {@code queue.path}, as on H2.
     */
    private static AdminServer startAdmin(BackstopConfig config, QueueChoice chosen, Forwarder forwarder,
            Clock clock) {
        HostPort listen = config.admin().listen();
        LiveQueueAdmin live;
        java.nio.file.Path tokenDir;
        if (chosen.h2() != null) {
            live = new LiveQueueAdmin(chosen.h2(), forwarder, true, config, clock);
            tokenDir = chosen.h2().directory();
        } else {
            org.backstopmx.queue.postgres.PostgresMailQueue shared = chosen.shared();
            live = new LiveQueueAdmin(shared, chosen.recipients(), () -> {
                org.backstopmx.queue.postgres.PostgresMailQueue.ByDomain b = shared.byDomain();
                return new QueueViews.ByDomain(b.recipients(), b.oldestPending());
            }, forwarder, true, config, clock);
            tokenDir = config.queue().path().toAbsolutePath();
        }
        String token;
        try {
            if (config.admin().token() == null && config.admin().tokenFile() == null) {
                java.nio.file.Files.createDirectories(tokenDir);
            }
            token = AdminToken.forServer(config.admin(), tokenDir);
        } catch (IOException e) {
            String key = config.admin().tokenFile() != null ? "admin.token-file: cannot read the admin token"
                    : "admin.token: none is set, and the generated one in the queue directory cannot be read or written";
            throw new IllegalStateException(key + ": " + e.getMessage(), e);
        }
        try {
            return AdminServer.start(listen, live, token);
        } catch (IOException e) {
            throw new IllegalStateException("admin.listen: cannot listen on " + listen + ": " + e.getMessage(), e);
        }
    }

    public InetSocketAddress smtpAddress() {
        return smtp.localAddress();
    }

    /** Where {@code /metrics} and the health endpoints are served. */
    public InetSocketAddress metricsAddress() {
        return metricsServer.address();
    }

    /** Where the admin API is served. */
    public InetSocketAddress adminAddress() {
        return admin == null ? null : admin.address();
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

    /** The MX sanity check of every served domain, run now (it also runs at start and every hour). */
    public List<MxSanityCheck.Result> checkMx() {
        return mxWatch.run();
    }

    /** Where the background loops beat: {@code /health/live}. */
    public Liveness liveness() {
        return liveness;
    }

    /**
     * Serves the domains, recipient lists, routes and self-names of {@code live} from now on (a configuration reload,
     * see {@link ReloadPlan}): the next RCPT of every session, open ones included, and every route resolved from now
     * on see them. The recipient files are read first; if one is unusable nothing changes.
     *
     * @return the served domains and recipients now in force
     * @throws IllegalArgumentException naming the key of an unusable recipient file
     */
    public synchronized RecipientDirectory reload(BackstopConfig live) {
        RecipientDirectory served = smtp.reloadDomains(live.domains());
        forwarder.reload(live);
        config = live;
        return served;
    }

    @Override
    public void close() {
        LOG.info("Backstop MX stopping");
        mxWatch.close();
        mxChecks.shutdownNow();
        if (admin != null) {
            admin.close();
        }
        smtp.close();
        forwarder.close();
        closeQuietly(queueMetrics);
        queue.close();
        metricsServer.close();
        metrics.close();
        LOG.info("Backstop MX stopped");
    }
}
