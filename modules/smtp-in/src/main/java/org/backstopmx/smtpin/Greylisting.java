package org.backstopmx.smtpin;

import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import org.backstopmx.core.Greylist;
import org.backstopmx.core.Greylist.Entry;
import org.backstopmx.core.Greylist.Triplet;
import org.backstopmx.core.Metrics.ScreenCheck;
import org.backstopmx.core.Metrics.ScreenResult;
import org.backstopmx.core.QueueException;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.config.GreylistMode;
import org.backstopmx.core.config.ScreenConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Greylisting at RCPT ({@code screen.greylist: on}; RFC 6647, as postgrey does it): a recipient is deferred with
 * {@code 450 4.7.1} the first time its triplet (the client's /24 or /64, the envelope sender, the recipient) is
 * tried; a retry once {@code screen.greylist-delay} has passed is accepted, and so is every try for
 * {@code screen.greylist-lifetime} after the last one that passed. A first try not retried within
 * {@code screen.greylist-retry-window} is forgotten. A real MTA retries; most spam engines do not.
 *
 * <p>Asked by {@link RecipientHook} last, once the recipient would be accepted, so a refusal for good (relay, unknown
 * user) is never turned into a 450. Clients in {@code screen.trusted} and clients a {@code screen.dnswl} list named
 * are not greylisted. The greylist lives in the queue's database ({@link Greylist}); when it cannot be used, the
 * recipient passes (counted {@code error}): greylisting never costs a message. Expired entries are pruned on the
 * first check after {@link #PRUNE_EVERY}.
 *
 * <p>Thread-safe; called on the worker threads, which it blocks for a database look-up and write.
 */
final class Greylisting {
    private static final Logger LOG = LoggerFactory.getLogger(Greylisting.class);
    /** How often expired entries are removed. */
    static final Duration PRUNE_EVERY = Duration.ofHours(1);

    private final ScreenConfig config;
    private final ClientTrust trust;
    private final Greylist greylist;
    private final Clock clock;
    private final SmtpMetrics metrics;
    private volatile Instant nextPrune;

    /**
     * @param trust who is never greylisted
     * @return null when {@code screen.greylist} is off
     */
    static Greylisting create(ScreenConfig config, ClientTrust trust, Greylist greylist, Clock clock,
            SmtpMetrics metrics) {
        if (config.greylist() == GreylistMode.OFF) {
            return null;
        }
        if (greylist == null) {
            throw new IllegalArgumentException("screen.greylist: on needs the queue's greylist");
        }
        return new Greylisting(config, trust, greylist, clock, metrics);
    }

    private Greylisting(ScreenConfig config, ClientTrust trust, Greylist greylist, Clock clock, SmtpMetrics metrics) {
        this.config = config;
        this.trust = trust;
        this.greylist = greylist;
        this.clock = clock;
        this.metrics = metrics;
        this.nextPrune = clock.instant();
    }

    /**
     * Looks at one RCPT that would be accepted.
     *
     * @param allowListed whether a {@code screen.dnswl} list named the client
     * @param sender      the envelope sender, empty for {@code <>}
     * @param recipient   the recipient as accepted
     * @return null when it may be accepted, else the {@code 450 4.7.1} for it
     */
    SmtpReply check(InetAddress client, boolean allowListed, String sender, String recipient) {
        if (allowListed || trust.trusts(client)) {
            return null;
        }
        Instant now = clock.instant();
        Triplet triplet = new Triplet(network(client), sender.toLowerCase(Locale.ROOT),
                recipient.toLowerCase(Locale.ROOT));
        try {
            prune(now);
            Optional<Entry> known = greylist.lookup(triplet, now);
            Entry next = next(known.orElse(null), triplet, now);
            if (known.isEmpty() || next != known.get()) {
                greylist.put(next);
            }
            boolean passed = next.passedAt() != null && next.passedAt().equals(now);
            metrics.screened(ScreenCheck.GREYLIST, passed ? ScreenResult.PASSED : ScreenResult.DEFERRED);
            if (passed) {
                if (known.isPresent() && known.get().passedAt() == null) {
                    LOG.info("greylist: pass [{}] from=<{}> to=<{}>, retried after {}s", client.getHostAddress(),
                            sender, recipient, Duration.between(next.firstSeen(), now).toSeconds());
                }
                return null;
            }
            LOG.info("greylist: defer [{}] from=<{}> to=<{}>{}", client.getHostAddress(), sender, recipient,
                    known.isPresent() ? ", retried too soon" : "");
            return Replies.GREYLISTED;
        } catch (QueueException e) {
            metrics.screened(ScreenCheck.GREYLIST, ScreenResult.ERROR);
            LOG.warn("greylist: cannot be used, [{}] to=<{}> passes: {}", client.getHostAddress(), recipient,
                    e.getMessage());
            return null;
        }
    }

    /**
     * What the triplet's entry becomes with a try at {@code now}: passed (its {@code passedAt} is {@code now}) when
     * it passed before or its first try is at least the delay ago; else a first try, or the same one still waiting.
     */
    Entry next(Entry known, Triplet triplet, Instant now) {
        if (known == null) {
            return new Entry(triplet, now, null, now.plus(config.greylistRetryWindow()));
        }
        if (known.passedAt() != null || !now.isBefore(known.firstSeen().plus(config.greylistDelay()))) {
            return new Entry(triplet, known.firstSeen(), now, now.plus(config.greylistLifetime()));
        }
        return known;
    }

    private void prune(Instant now) throws QueueException {
        if (now.isBefore(nextPrune)) {
            return;
        }
        nextPrune = now.plus(PRUNE_EVERY);
        int pruned = greylist.prune(now);
        if (pruned > 0) {
            LOG.info("greylist: {} expired entries removed", pruned);
        }
    }

    /** {@code 192.0.2.0/24}, {@code 2001:db8:1:2::/64}. */
    static String network(InetAddress client) {
        byte[] a = client.getAddress();
        if (a.length == 4) {
            return (a[0] & 0xff) + "." + (a[1] & 0xff) + "." + (a[2] & 0xff) + ".0/24";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 8; i += 2) {
            b.append(Integer.toHexString((a[i] & 0xff) << 8 | (a[i + 1] & 0xff))).append(':');
        }
        return b.append(":/64").toString();
    }
}
