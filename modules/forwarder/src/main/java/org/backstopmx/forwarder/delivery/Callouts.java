package org.backstopmx.forwarder.delivery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.Metrics.CalloutResult;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.RecipientCache;
import org.backstopmx.core.RecipientCache.Entry;
import org.backstopmx.core.RecipientVerifier;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.config.CalloutConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Recipient verification for the callout domains ({@code recipient-check: callout}): the cache first; a fresh entry
 * answers. Otherwise, while the primary is not marked down, a callout over {@link CalloutSessions}: 2xx is valid,
 * 5xx invalid with the primary's text, anything else (4xx, timeout, no session free within the bound) unreachable.
 * Answers are cached ({@code callout.positive-ttl}, {@code callout.negative-ttl}); so are delivery results
 * ({@link #delivered}, {@link #refused}). While the primary cannot be asked, an address the cache does not know
 * follows {@code callout.unknown-when-down}; a callout that found the primary unreachable spares the following RCPTs
 * the wait for {@link #UNREACHABLE_HOLD}.
 *
 * <p>Bound: {@link #verify} waits at most {@code callout.timeout} in all, for a session permit and for the answer;
 * a callout that is still running then finishes on its own thread and its answer still fills the cache.
 *
 * <p>Catch-all: after an address is found valid, a made-up local part is checked on the same session (at most once
 * per {@link CatchAllDetector#RECHECK} per domain); if the primary takes that too, it accepts anything, which is logged
 * and counted ({@code result=catch_all}): its "valid" answers mean nothing then, and the admin should know.
 *
 * <p>Thread-safe. Never throws for a network, primary or cache failure.
 */
final class Callouts implements RecipientVerifier, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Callouts.class);
    /**
     * After a callout found the primary unreachable, how long the following RCPTs take that as the answer without
     * asking again: a primary that swallows packets would otherwise hold every RCPT for {@code callout.timeout}.
     */
    static final Duration UNREACHABLE_HOLD = Duration.ofSeconds(30);

    /** How old the cache sizes behind the gauge may be. */
    static final Duration SIZES_MAX_AGE = Duration.ofSeconds(15);

    private record Sizes(Map<String, Long> byDomain, Instant at) {
    }

    private final CalloutConfig config;
    private final RecipientCache cache;
    private final CalloutSessions sessions;
    private final Connector connector;
    private final DownDestinations down;
    private final ExecutorService pool;
    private final MeterRegistry registry;
    private final Clock clock;
    private final CatchAllDetector catchAll;
    private final Map<String, Instant> unreachableUntil = new ConcurrentHashMap<>();
    private volatile Set<String> domains;
    private volatile Sizes sizes;

    Callouts(CalloutConfig config, Set<String> domains, RecipientCache cache, CalloutSessions sessions,
            Connector connector, DownDestinations down, ExecutorService pool, MeterRegistry registry, Clock clock) {
        this.connector = connector;
        this.config = config;
        this.domains = Set.copyOf(domains);
        this.cache = cache;
        this.sessions = sessions;
        this.down = down;
        this.pool = pool;
        this.registry = registry;
        this.clock = clock;
        this.catchAll = new CatchAllDetector(clock);
        domains.forEach(this::registerSize);
    }

    /** Takes the callout domains and STARTTLS policies of a reloaded configuration. */
    void reload(Set<String> newDomains, Map<String, org.backstopmx.forwarder.smtp.TlsPolicy> domainTls) {
        domains = Set.copyOf(newDomains);
        connector.domainTls(domainTls);
        newDomains.forEach(this::registerSize);
    }

    /** The gauge of cache entries for {@code domain}, read from the database at most every {@link #SIZES_MAX_AGE}. */
    void registerSize(String domain) {
        Gauge.builder(Metrics.RECIPIENT_CACHE_ENTRIES, this, c -> c.sizes().getOrDefault(domain, 0L))
                .description("Recipients the callout cache knows (not expired)").tag("domain", domain)
                .register(registry);
    }

    private Map<String, Long> sizes() {
        Sizes s = sizes;
        Instant now = clock.instant();
        if (s == null || !s.at().plus(SIZES_MAX_AGE).isAfter(now)) {
            try {
                s = new Sizes(cache.sizeByDomain(now), now);
                sizes = s;
            } catch (QueueException | RuntimeException e) {
                return s == null ? Map.of() : s.byDomain();
            }
        }
        return s.byDomain();
    }

    @Override
    public Verdict verify(String address) {
        String domain = domainOf(address);
        Optional<Entry> known = lookup(address);
        if (known.isPresent()) {
            Entry e = known.get();
            count(Metrics.CALLOUT_CACHE_HITS, domain, e.valid() ? "valid" : "invalid");
            return e.valid() ? Verdict.VALID : Verdict.invalid(e.reply());
        }
        if (down.isDown(domain)) {
            return unknownWhileDown(domain, address, "the primary is marked down");
        }
        Instant until = unreachableUntil.get(domain);
        if (until != null && clock.instant().isBefore(until)) {
            return unknownWhileDown(domain, address, "the primary was unreachable for a callout just now");
        }
        long deadline = System.nanoTime() + config.timeout().toNanos();
        try {
            if (!sessions.acquire(domain, config.timeout())) {
                count(Metrics.CALLOUTS, domain, CalloutResult.UNREACHABLE.tag());
                return unknownWhileDown(domain, address, config.maxSessions() + " callout sessions busy");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unknownWhileDown(domain, address, "interrupted");
        }
        Future<Verdict> answer;
        try {
            answer = pool.submit(() -> {
                try {
                    return callout(domain, address);
                } finally {
                    sessions.release(domain);
                }
            });
        } catch (RuntimeException e) { // the pool is shut down: Backstop is stopping
            sessions.release(domain);
            return unknownWhileDown(domain, address, "stopping");
        }
        try {
            Verdict v = answer.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return v != null ? v : unknownWhileDown(domain, address, "no answer");
        } catch (TimeoutException e) { // the callout counts its own result when it ends
            return unknownWhileDown(domain, address, "no answer within " + config.timeout().toSeconds() + "s");
        } catch (ExecutionException e) {
            LOG.warn("callout for <{}> failed: {}", address, e.getCause().toString());
            return unknownWhileDown(domain, address, "callout failed");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return unknownWhileDown(domain, address, "interrupted");
        }
    }

    /** On a callout thread, holding a permit: asks, caches, counts. Null when the primary could not be asked. */
    private Verdict callout(String domain, String address) {
        CalloutSessions.Answer a = sessions.check(domain, address);
        if (a.rcpt().isEmpty()) {
            unreachableUntil.put(domain, clock.instant().plus(UNREACHABLE_HOLD));
            count(Metrics.CALLOUTS, domain, CalloutResult.UNREACHABLE.tag());
            LOG.debug("callout for <{}>: primary unreachable: {}", address, a.problem());
            return null;
        }
        SmtpReply reply = a.rcpt().get();
        unreachableUntil.remove(domain);
        Verdict verdict = null;
        if (reply.isPositive()) {
            remember(address, true, null, config.positiveTtl(), RecipientCache.Source.CALLOUT);
            count(Metrics.CALLOUTS, domain, CalloutResult.VALID.tag());
            verdict = Verdict.VALID;
        } else if (reply.isPermanent()) {
            remember(address, false, reply.text(), config.negativeTtl(), RecipientCache.Source.CALLOUT);
            count(Metrics.CALLOUTS, domain, CalloutResult.INVALID.tag());
            verdict = Verdict.invalid(reply.text());
        } else {
            count(Metrics.CALLOUTS, domain, CalloutResult.UNREACHABLE.tag());
            LOG.info("callout for <{}>: the primary answered {}", address, reply);
        }
        if (a.session() != null && verdict == Verdict.VALID) {
            if (catchAll.check(domain, a.session())) {
                count(Metrics.CALLOUTS, domain, CalloutResult.CATCH_ALL.tag());
            }
        }
        if (a.session() != null) {
            if (a.session().isOpen()) {
                sessions.keep(domain, a.session());
            } else {
                a.session().close();
            }
        }
        return verdict;
    }

    private Verdict unknownWhileDown(String domain, String address, String why) {
        // DEBUG: the refusal itself is logged by SMTP in, one line per RCPT, with the 450's text
        LOG.debug("callout for <{}>: not known and {}: {}", address, why,
                config.acceptUnknownWhenDown() ? "accepted (callout.unknown-when-down: accept)" : "450 4.1.1");
        return config.acceptUnknownWhenDown() ? Verdict.VALID : Verdict.UNVERIFIED;
    }

    /** A delivery the primary accepted: the address is valid for another {@code positive-ttl}. */
    void delivered(String domain, String address) {
        if (domains.contains(domain)) {
            remember(address, true, null, config.positiveTtl(), RecipientCache.Source.DELIVERY);
        }
    }

    /** The primary refused the address with 5xx at RCPT during a delivery: invalid for {@code negative-ttl}. */
    void refused(String domain, String address, SmtpReply reply) {
        if (domains.contains(domain)) {
            remember(address, false, reply.text(), config.negativeTtl(), RecipientCache.Source.DELIVERY);
        }
    }

    private Optional<Entry> lookup(String address) {
        try {
            return cache.lookup(address, clock.instant());
        } catch (QueueException | RuntimeException e) {
            LOG.warn("recipient cache: cannot look up <{}>: {}", address, e.getMessage());
            return Optional.empty();
        }
    }

    private void remember(String address, boolean valid, String reply, Duration ttl, RecipientCache.Source source) {
        Instant now = clock.instant();
        try {
            cache.put(new Entry(address.toLowerCase(Locale.ROOT), valid, reply, now, now.plus(ttl), source));
        } catch (QueueException | RuntimeException e) {
            LOG.warn("recipient cache: cannot record <{}>: {}", address, e.getMessage());
        }
    }

    private void count(String meter, String domain, String result) {
        Counter.builder(meter).description(meter.equals(Metrics.CALLOUTS) ? "Callouts to a primary at RCPT time"
                : "RCPTs at a callout domain answered from the recipient cache").tag("domain", domain).tag("result", result).register(registry).increment();
    }

    private static String domainOf(String address) {
        return address.substring(address.lastIndexOf('@') + 1).toLowerCase(Locale.ROOT);
    }

    /** Closes the idle sessions; running callouts finish on their threads (never interrupted: they may be in H2). */
    @Override
    public void close() {
        pool.shutdown();
        sessions.close();
    }
}
