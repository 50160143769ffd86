package org.backstopmx.core.config;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * {@code screen.*}: what is checked about a client when its session starts, before it may send mail.
 *
 * @param dnsbl      {@code screen.dnsbl}: DNS block lists; each list that names the client adds its weight to the
 *                   client's score (default none)
 * @param dnswl      {@code screen.dnswl}: DNS allow lists; each list that names the client takes its weight off the
 *                   score (default none)
 * @param threshold  {@code screen.threshold}: a score at or above this refuses the client (default 2)
 * @param action     {@code screen.action}: how a refused client is answered (default {@link Action#REJECT})
 * @param trusted    {@code screen.trusted}: addresses and prefixes never screened (default none)
 * @param greetDelay {@code screen.greet-delay}: how long the 220 greeting waits; a client that talks before it is
 *                   refused (default 0s: off)
 * @param rate       {@code screen.rate.*}: connections and messages a minute per client and per network
 *                   ({@link RateConfig#defaults()})
 * @param greylist   {@code screen.greylist}: whether the first try of a (client network, sender, recipient) triplet is
 *                   told {@code 450 4.7.1} at RCPT, and passes once retried after the delay (default off). Clients in
 *                   {@code trusted} or named by a {@code dnswl} list are not greylisted.
 * @param greylistDelay       {@code screen.greylist-delay}: how long after its first try a retry passes (default 5m)
 * @param greylistRetryWindow {@code screen.greylist-retry-window}: how long a first try is remembered while no retry
 *                            has passed; a retry after it starts over (default 4h)
 * @param greylistLifetime    {@code screen.greylist-lifetime}: how long a triplet that passed is remembered after its
 *                            last pass; its mail is not delayed again meanwhile (default 35d)
 * @param spf        {@code screen.spf}: the SPF check at MAIL FROM (default {@link SpfPolicy#TAG})
 * @param bounceOnlySpfPass {@code screen.bounce-only-spf-pass}: DSNs only to senders that passed SPF at intake; when
 *                   false (the default) only those that failed get none
 */
public record ScreenConfig(List<DnsList> dnsbl, List<DnsList> dnswl, int threshold, Action action,
        List<AddressRange> trusted, Duration greetDelay, RateConfig rate, GreylistMode greylist, Duration greylistDelay,
        Duration greylistRetryWindow, Duration greylistLifetime, SpfPolicy spf, boolean bounceOnlySpfPass) {

    public ScreenConfig {
        dnsbl = List.copyOf(dnsbl);
        dnswl = List.copyOf(dnswl);
        Objects.requireNonNull(action, "action");
        trusted = List.copyOf(trusted);
        Objects.requireNonNull(greetDelay, "greetDelay");
        Objects.requireNonNull(rate, "rate");
        Objects.requireNonNull(greylist, "greylist");
        Objects.requireNonNull(greylistDelay, "greylistDelay");
        Objects.requireNonNull(greylistRetryWindow, "greylistRetryWindow");
        Objects.requireNonNull(greylistLifetime, "greylistLifetime");
        Objects.requireNonNull(spf, "spf");
    }

    /** Nothing looked up, no greeting delay, the default rate limits, no greylisting, SPF tagged. */
    public static ScreenConfig defaults() {
        return new ScreenConfig(List.of(), List.of(), 2, Action.REJECT, List.of(), Duration.ZERO, RateConfig.defaults(),
                GreylistMode.OFF, Duration.ofMinutes(5), Duration.ofHours(4), Duration.ofDays(35), SpfPolicy.TAG, false);
    }

    public ScreenConfig withSpf(SpfPolicy newSpf, boolean newBounceOnlySpfPass) {
        return new ScreenConfig(dnsbl, dnswl, threshold, action, trusted, greetDelay, rate, greylist, greylistDelay,
                greylistRetryWindow, greylistLifetime, newSpf, newBounceOnlySpfPass);
    }

    /** Whether {@code client} is in {@code screen.trusted}. */
    public boolean trusts(java.net.InetAddress client) {
        for (AddressRange r : trusted) {
            if (r.contains(client)) {
                return true;
            }
        }
        return false;
    }

    /** Whether any DNS list is configured. */
    public boolean hasLists() {
        return !dnsbl.isEmpty() || !dnswl.isEmpty();
    }

    public ScreenConfig withLists(List<DnsList> newDnsbl, List<DnsList> newDnswl, int newThreshold) {
        return new ScreenConfig(newDnsbl, newDnswl, newThreshold, action, trusted, greetDelay, rate, greylist,
                greylistDelay, greylistRetryWindow, greylistLifetime, spf, bounceOnlySpfPass);
    }

    public ScreenConfig withAction(Action newAction) {
        return new ScreenConfig(dnsbl, dnswl, threshold, newAction, trusted, greetDelay, rate, greylist,
                greylistDelay, greylistRetryWindow, greylistLifetime, spf, bounceOnlySpfPass);
    }

    public ScreenConfig withTrusted(List<AddressRange> newTrusted) {
        return new ScreenConfig(dnsbl, dnswl, threshold, action, newTrusted, greetDelay, rate, greylist, greylistDelay,
                greylistRetryWindow, greylistLifetime, spf, bounceOnlySpfPass);
    }

    public ScreenConfig withGreetDelay(Duration newGreetDelay) {
        return new ScreenConfig(dnsbl, dnswl, threshold, action, trusted, newGreetDelay, rate, greylist, greylistDelay,
                greylistRetryWindow, greylistLifetime, spf, bounceOnlySpfPass);
    }

    public ScreenConfig withRate(RateConfig newRate) {
        return new ScreenConfig(dnsbl, dnswl, threshold, action, trusted, greetDelay, newRate, greylist, greylistDelay,
                greylistRetryWindow, greylistLifetime, spf, bounceOnlySpfPass);
    }

    /** Greylisting on or off, with the delay, retry window and lifetime. */
    public ScreenConfig withGreylist(GreylistMode newGreylist, Duration newDelay, Duration newRetryWindow,
            Duration newLifetime) {
        return new ScreenConfig(dnsbl, dnswl, threshold, action, trusted, greetDelay, rate, newGreylist, newDelay,
                newRetryWindow, newLifetime, spf, bounceOnlySpfPass);
    }

    /**
     * One DNS list: the client {@code 192.0.2.1} is listed when {@code 1.2.0.192.<zone>} has an A record that
     * {@code match} accepts.
     *
     * @param zone   the list's zone, {@code zen.spamhaus.org}, without a trailing dot
     * @param weight what a listing adds to the score (a block list) or takes off it (an allow list); at least 1
     * @param match  which answers count as a listing
     */
    public record DnsList(String zone, int weight, DnsListMatch match) {
        public DnsList {
            Objects.requireNonNull(zone, "zone");
            Objects.requireNonNull(match, "match");
            if (weight < 1) {
                throw new IllegalArgumentException("weight must be at least 1, got " + weight);
            }
        }

        @Override
        public String toString() {
            return zone + "(" + weight + (match.isAny() ? "" : ", " + match) + ")";
        }
    }

    /** How a client whose score reaches the threshold is answered at its commands. */
    public enum Action {
        /** {@code 554 5.7.1}: the sender gives up (or bounces). */
        REJECT,
        /** {@code 450 4.7.1}: the sender retries later, so a listing made in error costs a delay, not a message. */
        TEMPFAIL;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
