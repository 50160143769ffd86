package org.backstopmx.forwarder.delivery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.Metrics;
import org.backstopmx.forwarder.smtp.TlsPolicy;
import org.backstopmx.core.RecipientState;
import org.backstopmx.forwarder.dsn.DsnAction;

/**
 * The forwarder's meters ({@link Metrics}): recipient outcomes per destination, delivery duration, queue residence,
 * bounces, destination up/down, whether each served domain's mail is taken (standby mode). Destinations are the served domains; every other domain (bounces) is
 * {@link Metrics#OTHER}. Every series of a served domain exists from the start, so dashboards and alerts see zeros
 * rather than nothing.
 */
public final class ForwarderMetrics {
    private final Set<String> served;
    private final Map<String, Map<Metrics.AttemptResult, Counter>> attempts = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> up = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> accepting = new ConcurrentHashMap<>();
    private final Map<String, Counter> bounces = new ConcurrentHashMap<>();
    private final Map<Metrics.BounceSuppression, Counter> suppressed = new EnumMap<>(Metrics.BounceSuppression.class);
    private final Timer deliveryDuration;
    private final Timer residence;
    private final MeterRegistry registry;

    public ForwarderMetrics(MeterRegistry registry, Set<String> servedDomains) {
        this.registry = registry;
        this.served = Set.copyOf(servedDomains);
        for (String d : served) {
            attemptCounters(d);
            AtomicInteger state = new AtomicInteger(1);
            up.put(d, state);
            Gauge.builder(Metrics.DESTINATION_UP, state, AtomicInteger::get).tag("destination", d)
                    .description("1 while the destination (the domain's primary) is up, 0 while it is marked down")
                    .register(registry);
            acceptingGauge(d);
        }
        attemptCounters(Metrics.OTHER);
        for (String reason : new String[] {"failed", "expired", "delayed"}) {
            bounces.put(reason, Counter.builder(Metrics.BOUNCES).tag("reason", reason)
                    .description("Delivery status notifications queued to senders").register(registry));
        }
        for (Metrics.BounceSuppression reason : Metrics.BounceSuppression.values()) {
            suppressed.put(reason, Counter.builder(Metrics.BOUNCES_SUPPRESSED).tag("reason", reason.tag())
                    .description("Delivery status notifications not sent because the sender may be forged (SPF)")
                    .register(registry));
        }
        deliveryDuration = Timer.builder(Metrics.DELIVERY_DURATION)
                .description("One message over SMTP to its destination, from MAIL to the reply to the final dot")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(10)).register(registry);
        residence = Timer.builder(Metrics.QUEUE_RESIDENCE)
                .description("From receipt to delivery of a recipient")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(10))
                .maximumExpectedValue(Duration.ofDays(5)).register(registry);
    }

    /** The tag value for {@code domain}: itself when served, else {@link Metrics#OTHER}. */
    String destination(String domain) {
        return served.contains(domain) ? domain : Metrics.OTHER;
    }

    private Map<Metrics.AttemptResult, Counter> attemptCounters(String destination) {
        return attempts.computeIfAbsent(destination, d -> {
            Map<Metrics.AttemptResult, Counter> m = new EnumMap<>(Metrics.AttemptResult.class);
            for (Metrics.AttemptResult r : Metrics.AttemptResult.values()) {
                m.put(r, Counter.builder(Metrics.DELIVERY_ATTEMPTS).tag("destination", d).tag("result", r.tag())
                        .description("Recipient outcomes of delivery attempts (deferred includes mail deferred without a"
                                + " connection because its destination is down)")
                        .register(registry));
            }
            return m;
        });
    }

    void outcome(String domain, RecipientState next, Duration sinceReceipt) {
        Metrics.AttemptResult result = switch (next) {
            case DELIVERED -> Metrics.AttemptResult.DELIVERED;
            case FAILED -> Metrics.AttemptResult.FAILED;
            case EXPIRED -> Metrics.AttemptResult.EXPIRED;
            default -> Metrics.AttemptResult.DEFERRED;
        };
        attemptCounters(destination(domain)).get(result).increment();
        if (result == Metrics.AttemptResult.DELIVERED && !sinceReceipt.isNegative()) {
            residence.record(sinceReceipt);
        }
    }

    void deferred(String domain, int recipients) {
        attemptCounters(destination(domain)).get(Metrics.AttemptResult.DEFERRED).increment(recipients);
    }

    /** One session's STARTTLS outcome; level and result come from closed sets ({@link Metrics#DELIVERY_TLS}). */
    void tls(String domain, TlsPolicy level, String result) {
        // XXX: the series appear on first use, not from the start as the others do
        Counter.builder(Metrics.DELIVERY_TLS).tag("destination", destination(domain))
                .tag("level", level.label()).tag("result", result)
                .description("STARTTLS outcomes of sessions to the primaries: verified, encrypted, plain or why not")
                .register(registry).increment();
    }

    void delivery(long nanos) {
        deliveryDuration.record(Duration.ofNanos(nanos));
    }

    void bounce(DsnAction action, boolean expired) {
        bounces.get(action == DsnAction.DELAYED ? "delayed" : expired ? "expired" : "failed").increment();
    }

    /** A DSN was not sent, for {@code reason} ({@link BackscatterGuard}). */
    void bounceSuppressed(Metrics.BounceSuppression reason) {
        suppressed.get(reason).increment();
    }

    /** A served domain's mail is taken now, or left to its primary (standby mode). */
    void accepting(String domain, boolean isAccepting) {
        acceptingGauge(domain).set(isAccepting ? 1 : 0);
    }

    /** Registered for each served domain, those added by a reload too. */
    private AtomicInteger acceptingGauge(String domain) {
        return accepting.computeIfAbsent(domain, d -> {
            AtomicInteger state = new AtomicInteger(1);
            Gauge.builder(Metrics.DOMAIN_ACCEPTING, state, AtomicInteger::get).tag("domain", d)
                    .description("1 while mail for the served domain is taken, 0 while it is left to its primary"
                            + " (accept: when-primary-down, primary up)")
                    .register(registry);
            return state;
        });
    }

    void destination(String domain, boolean isUp) {
        AtomicInteger state = up.get(domain);
        if (state != null) {
            state.set(isUp ? 1 : 0);
        }
    }
}
