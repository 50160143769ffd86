package org.backstopmx.forwarder.delivery;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.RecipientCache;
import org.backstopmx.core.config.CalloutConfig;
import org.backstopmx.forwarder.MxResolver;
import org.backstopmx.forwarder.RouteResolver;
import org.backstopmx.forwarder.smtp.SmtpTimeouts;
import org.backstopmx.forwarder.sts.MtaSts;

/**
 * What the forwarder needs to verify recipients by callout: {@code callout.*}, the callout domains, the durable
 * cache (the queue's) and the meter registry.
 */
public record CalloutSetup(CalloutConfig config, Set<String> domains, RecipientCache cache, MeterRegistry registry) {
    public CalloutSetup {
        Objects.requireNonNull(config, "config");
        domains = Set.copyOf(domains);
        Objects.requireNonNull(cache, "cache");
        Objects.requireNonNull(registry, "registry");
    }

    /**
     * The callouts over their own connector: the same routes and STARTTLS policies as deliveries, every SMTP timeout
     * cut to {@code callout.timeout} (a callout holds up a client's RCPT), and their own threads.
     */
    Callouts build(RouteResolver routes, MxResolver dns, ForwarderSettings settings, LearnedCapabilities learned,
            DownDestinations down, MtaSts mtaSts, Clock clock) {
        Connector connector = new Connector(routes, dns, settings.withTimeouts(SmtpTimeouts.all(config.timeout())),
                learned, mtaSts);
        AtomicInteger n = new AtomicInteger();
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "backstop-callout-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        return new Callouts(config, domains, cache, new CalloutSessions(connector, config.maxSessions(), clock),
                connector, down, pool, registry, clock);
    }
}
