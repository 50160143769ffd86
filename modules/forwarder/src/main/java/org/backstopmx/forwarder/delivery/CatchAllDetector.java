package org.backstopmx.forwarder.delivery;

import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.forwarder.smtp.RelayClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a callout domain's primary accepts any local part (a catch-all), which makes its "valid" answers mean
 * nothing: a made-up local part ({@code backstop-check-<16 random hex digits>}, which no one has) is checked on a
 * session that just found an address valid, at most once per {@link #RECHECK} per domain. A change either way is a
 * log line (WARN when it becomes a catch-all). Thread-safe.
 */
final class CatchAllDetector {
    private static final Logger LOG = LoggerFactory.getLogger(CatchAllDetector.class);
    static final Duration RECHECK = Duration.ofHours(1);

    private record Finding(boolean acceptsAnything, Instant checkedAt) {
    }

    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Finding> byDomain = new ConcurrentHashMap<>();

    CatchAllDetector(Clock clock) {
        this.clock = clock;
    }

    /**
     * Checks {@code domain}'s primary over {@code session} unless it was checked less than {@link #RECHECK} ago.
     *
     * @return true when it was checked now and accepted the made-up address
     */
    boolean check(String domain, RelayClient session) {
        Instant now = clock.instant();
        Finding before = byDomain.get(domain);
        if (before != null && before.checkedAt().plus(RECHECK).isAfter(now)) {
            return false;
        }
        byte[] bytes = new byte[8];
        random.nextBytes(bytes);
        String madeUp = "backstop-check-" + HexFormat.of().formatHex(bytes) + "@" + domain;
        Optional<SmtpReply> reply = session.verify(madeUp);
        if (reply.isEmpty()) {
            return false;
        }
        boolean anything = reply.get().isPositive();
        byDomain.put(domain, new Finding(anything, now));
        if (anything && (before == null || !before.acceptsAnything())) {
            LOG.warn("primary for {} is a catch-all: it accepted the made-up <{}> ({}); callouts cannot tell valid"
                    + " recipients from invalid ones there", domain, madeUp, reply.get());
        } else if (!anything && before != null && before.acceptsAnything()) {
            LOG.info("primary for {} no longer accepts any address ({} for <{}>)", domain, reply.get(), madeUp);
        }
        return anything;
    }

    /** Whether the primary of {@code domain} was last found to accept any local part. */
    boolean acceptsAnything(String domain) {
        Finding f = byDomain.get(domain);
        return f != null && f.acceptsAnything();
    }
}
