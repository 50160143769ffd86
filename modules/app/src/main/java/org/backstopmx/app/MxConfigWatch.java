package org.backstopmx.app;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.forwarder.MxResolver;
import org.backstopmx.forwarder.MxSanityCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the {@link MxSanityCheck} for every served domain at start and every {@link #INTERVAL}: a domain whose DNS does
 * not make us its backup MX gets a WARN line at each check (and an INFO line once it is fixed), and
 * {@code backstop_mx_config_ok{domain,reason}} says so to the alert rules. Follows configuration reloads (the served
 * domains and self-names of the configuration in force at each run).
 */
final class MxConfigWatch implements AutoCloseable {
    static final Duration INTERVAL = Duration.ofHours(1);
    private static final Logger LOG = LoggerFactory.getLogger(MxConfigWatch.class);

    private final Supplier<BackstopConfig> config;
    private final MxResolver dns;
    private final MeterRegistry registry;
    /** Per domain: the gauge now registered, with its reason tag; only touched by {@link #run}. */
    private final Map<String, Registered> gauges = new HashMap<>();
    private ScheduledFuture<?> task;

    private record Registered(Gauge gauge, MxSanityCheck.Verdict verdict, AtomicInteger value) {
    }

    MxConfigWatch(Supplier<BackstopConfig> config, MxResolver dns, MeterRegistry registry) {
        this.config = config;
        this.dns = dns;
        this.registry = registry;
    }

    /** Checks now on {@code scheduler}, then every {@link #INTERVAL}. */
    void start(ScheduledExecutorService scheduler) {
        task = scheduler.scheduleWithFixedDelay(this::runQuietly, 0, INTERVAL.toSeconds(), TimeUnit.SECONDS);
    }

    private void runQuietly() {
        try {
            run();
        } catch (RuntimeException e) {
            LOG.warn("MX check failed: {}", e.toString());
        }
    }

    /** One round over the served domains; returns the results. */
    synchronized List<MxSanityCheck.Result> run() {
        BackstopConfig now = config.get();
        List<MxSanityCheck.Result> results = MxSanityCheck.of(now, dns)
                .checkAll(now.servedDomains().stream().sorted().toList());
        Map<String, Registered> stale = new HashMap<>(gauges);
        for (MxSanityCheck.Result r : results) {
            Registered before = stale.remove(r.domain());
            if (!r.ok()) {
                LOG.warn("MX check for {}: {}: {}", r.domain(), r.verdict().label(), r.detail());
            } else if (before != null && before.verdict() != MxSanityCheck.Verdict.OK) {
                LOG.info("MX check for {}: ok again: {}", r.domain(), r.detail());
            }
            if (before != null && before.verdict() == r.verdict()) {
                continue;
            }
            if (before != null) {
                registry.remove(before.gauge());
            }
            AtomicInteger value = new AtomicInteger(r.ok() ? 1 : 0);
            Gauge gauge = Gauge.builder(Metrics.MX_CONFIG_OK, value, AtomicInteger::get)
                    .description("1 when the served domain's MX records make Backstop its backup MX; reason says why not")
                    .tag("domain", r.domain()).tag("reason", r.verdict().label()).register(registry);
            gauges.put(r.domain(), new Registered(gauge, r.verdict(), value));
        }
        stale.forEach((domain, gone) -> {
            registry.remove(gone.gauge());
            gauges.remove(domain);
        });
        return results;
    }

    @Override
    public void close() {
        if (task != null) {
            task.cancel(false);
        }
    }
}
