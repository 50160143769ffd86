package org.backstopmx.forwarder.sts;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.forwarder.DomainNames;
import org.backstopmx.forwarder.smtp.RelayClient;
import org.backstopmx.forwarder.smtp.RelaySettings;
import org.backstopmx.forwarder.smtp.TlsFailure;
import org.backstopmx.forwarder.smtp.TlsPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code mta-sts} level (RFC 8461): which policy a domain has now, and the session to one of its MX hosts under
 * it.
 *
 * <p>The policy (§5.1): the {@code _mta-sts} TXT record is looked up for every session; when its id is the cached
 * policy's and that policy has not outlived its {@code max_age}, the cache answers; otherwise the policy is fetched,
 * parsed and cached. A fetch that fails leaves an unexpired cached policy in force (whatever the TXT record says
 * now), and is not tried again for that id for {@link #RETRY_AFTER_FAILURE}; without a cached policy the mail goes
 * as though the domain had none (§3.3), counted as {@code sts-policy-unavailable}. A missing TXT record or a DNS
 * failure leaves a cached policy in force too (§8.3: a domain withdraws a policy by publishing mode {@code none}).
 *
 * <p>The session: mode {@code enforce} connects only to MX hosts the policy names, with STARTTLS verified as at
 * {@link TlsPolicy#VERIFY} (the same CAs); a host it does not name gets no connection and fails with
 * {@link TlsFailure#STS_MX_MISMATCH}. Mode {@code testing} does the same checks, counts each failure with its reason
 * and then delivers over {@link TlsPolicy#OPPORTUNISTIC} (§5: "deliver anyway"). Mode {@code none}, or no policy:
 * {@link TlsPolicy#OPPORTUNISTIC}.
 *
 * <p>Thread-safe; lookups of one domain are serialised, so concurrent sessions fetch its policy once.
 *
 * <p>XXX: the fetch runs in the delivery thread that needs it (at most {@link StsPolicyFetcher#TIMEOUT}), and nothing
 * refreshes a policy before its {@code max_age} runs out; TLS-RPT reports (RFC 8460) are not sent, the counts are in
 * the TLS metric.
 */
public final class MtaSts {
    private static final Logger log = LoggerFactory.getLogger(MtaSts.class);

    /** How long a failed fetch is not repeated for the same TXT id. */
    static final Duration RETRY_AFTER_FAILURE = Duration.ofMinutes(5);

    /** The policy in force for a domain, if any. */
    public sealed interface Verdict {
    }

    /** This policy applies (it may be mode {@code none}). */
    public record Applies(StsPolicy policy, String id) implements Verdict {
    }

    /**
     * No policy applies.
     *
     * @param unavailable true when the domain publishes one that could not be fetched ({@code detail} says why)
     */
    public record NoPolicy(boolean unavailable, String detail) implements Verdict {
    }

    private record Failure(String id, Instant until, String detail) {
    }

    private final StsTxtLookup txt;
    private final StsPolicyFetcher fetcher;
    private final StsPolicyStore store;
    private final Clock clock;
    private final Map<String, Failure> failures = new ConcurrentHashMap<>();
    private final Map<String, Object> locks = new ConcurrentHashMap<>();

    /** @param dir where fetched policies are kept across restarts ({@code <queue.path>/mta-sts}); null: memory only */
    public MtaSts(StsTxtLookup txt, StsPolicyFetcher fetcher, Path dir, Clock clock) {
        this.txt = Objects.requireNonNull(txt, "txt");
        this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
        this.store = new StsPolicyStore(dir);
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * The production set-up: TXT through {@code dns}, the policy fetched verified by {@code trust} (the
     * {@code verify} level's CAs), kept in {@code <queuePath>/mta-sts} (memory only when {@code queuePath} is null).
     */
    public static MtaSts of(DnsConfig dns, SSLContext trust, Path queuePath, Clock clock) {
        return new MtaSts(new StsTxtLookup(dns), new StsPolicyFetcher(trust),
                queuePath == null ? null : queuePath.resolve("mta-sts"), clock);
    }

    /** The policy of {@code domain} now. Never throws for what DNS or the policy host does. */
    public Verdict policy(String domain) {
        String d = DomainNames.normalize(domain);
        synchronized (locks.computeIfAbsent(d, k -> new Object())) {
            Instant now = clock.instant();
            Optional<StsPolicyStore.Cached> cached = store.get(d).filter(c -> !c.expired(now));
            StsTxtLookup.Answer answer = txt.lookup(d);
            if (!(answer instanceof StsTxtLookup.Found found)) {
                return cached.<Verdict>map(c -> new Applies(c.policy(), c.id()))
                        .orElseGet(() -> new NoPolicy(false, answer.toString()));
            }
            if (cached.isPresent() && cached.get().id().equals(found.id())) {
                return new Applies(cached.get().policy(), found.id());
            }
            Failure failed = failures.get(d);
            if (failed == null || !failed.id().equals(found.id()) || !now.isBefore(failed.until())) {
                try {
                    String text = fetcher.fetch(d);
                    StsPolicy policy = StsPolicy.parse(text);
                    store.put(d, new StsPolicyStore.Cached(found.id(), now, text, policy));
                    failures.remove(d);
                    log.info("MTA-STS policy of {} (id {}): mode {}, mx {}, max_age {} s", d, found.id(),
                            policy.mode().name().toLowerCase(java.util.Locale.ROOT), policy.mx(),
                            policy.maxAge().toSeconds());
                    return new Applies(policy, found.id());
                } catch (IOException | StsPolicy.Invalid e) {
                    failed = new Failure(found.id(), now.plus(RETRY_AFTER_FAILURE), e.getMessage());
                    failures.put(d, failed);
                    log.warn("MTA-STS policy of {} (id {}) not fetched: {}{}", d, found.id(), e.getMessage(),
                            cached.isPresent() ? "; the cached one stays in force" : "");
                }
            }
            return cached.<Verdict>map(c -> new Applies(c.policy(), c.id()))
                    .orElse(new NoPolicy(true, failed.detail()));
        }
    }

    /**
     * A session to {@code host} (an MX host of {@code domain}) at {@code address:port} under the domain's policy.
     *
     * @param relay  the domain's relay settings (their level is {@link TlsPolicy#MTA_STS}; their CAs verify)
     * @param report told the result label of each failure that did not stop the mail ({@code testing} mode, a
     *               policy that could not be fetched)
     * @return as {@link RelayClient#open}; not open with {@link TlsFailure#STS_MX_MISMATCH} when an {@code enforce}
     *         policy does not name {@code host}
     */
    public RelayClient open(String domain, String host, InetAddress address, int port, RelaySettings relay,
            Consumer<String> report) {
        Verdict verdict = policy(domain);
        if (verdict instanceof NoPolicy none) {
            if (none.unavailable()) {
                report.accept(TlsFailure.STS_POLICY_UNAVAILABLE.label());
            }
            return RelayClient.open(host, address, port, relay.withTlsPolicy(TlsPolicy.OPPORTUNISTIC));
        }
        StsPolicy policy = ((Applies) verdict).policy();
        if (policy.mode() == StsPolicy.Mode.NONE) {
            return RelayClient.open(host, address, port, relay.withTlsPolicy(TlsPolicy.OPPORTUNISTIC));
        }
        boolean enforce = policy.mode() == StsPolicy.Mode.ENFORCE;
        if (!policy.matches(host)) {
            String detail = "the MTA-STS policy of " + domain + " names " + policy.mx() + ", not " + host;
            if (enforce) {
                return RelayClient.refused(host, relay, TlsFailure.STS_MX_MISMATCH, detail);
            }
            log.info("{} (testing, delivered anyway)", detail);
            report.accept(TlsFailure.STS_MX_MISMATCH.label());
            return RelayClient.open(host, address, port, relay.withTlsPolicy(TlsPolicy.OPPORTUNISTIC));
        }
        RelayClient verified = RelayClient.open(host, address, port, relay.withTlsPolicy(TlsPolicy.VERIFY));
        if (enforce || verified.tlsFailure().isEmpty()) {
            return verified;
        }
        log.info("{}: TLS {} under the MTA-STS testing policy of {}, delivered anyway", verified.host(),
                verified.tlsResult(), domain);
        report.accept(verified.tlsResult());
        verified.close();
        return RelayClient.open(host, address, port, relay.withTlsPolicy(TlsPolicy.OPPORTUNISTIC));
    }
}
