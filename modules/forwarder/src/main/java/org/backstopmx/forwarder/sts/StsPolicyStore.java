package org.backstopmx.forwarder.sts;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.backstopmx.forwarder.DomainNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fetched MTA-STS policies, in memory and, when given a directory ({@code <queue.path>/mta-sts}), one file per
 * domain, so that a restart keeps them for their {@code max_age} (RFC 8461 §5.1: a cached policy stands while the
 * policy host is unreachable, which is exactly what an attacker on the path would arrange). A file is the policy
 * id and the fetch time in two header lines, a blank line and the policy as served; it is replaced atomically.
 * A file that cannot be read or parsed is ignored (the policy is fetched again) and logged.
 */
final class StsPolicyStore {
    private static final Logger log = LoggerFactory.getLogger(StsPolicyStore.class);

    /** A policy as fetched: its TXT id, when, the text and what it says. */
    record Cached(String id, Instant fetched, String text, StsPolicy policy) {
        /** §5.1: usable until {@code max_age} after the fetch. */
        boolean expired(Instant now) {
            return !now.isBefore(fetched.plus(policy.maxAge()));
        }
    }

    private final Map<String, Optional<Cached>> memory = new ConcurrentHashMap<>();
    private final Path dir;

    /** @param dir where the files go, or null to keep policies in memory only */
    StsPolicyStore(Path dir) {
        this.dir = dir;
    }

    Optional<Cached> get(String domain) {
        return memory.computeIfAbsent(DomainNames.normalize(domain), this::load);
    }

    void put(String domain, Cached cached) {
        String d = DomainNames.normalize(domain);
        memory.put(d, Optional.of(Objects.requireNonNull(cached, "cached")));
        if (dir == null || file(d) == null) {
            return;
        }
        try {
            Files.createDirectories(dir);
            Path tmp = dir.resolve(d + ".tmp");
            Files.writeString(tmp, "id: " + cached.id() + "\nfetched: " + cached.fetched() + "\n\n" + cached.text(),
                    StandardCharsets.UTF_8);
            Files.move(tmp, file(d), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            log.warn("MTA-STS policy of {} kept in memory only: {}", d, e.toString());
        }
    }

    /** The file of a domain, or null for a name that is not one (never a path outside the directory). */
    private Path file(String domain) {
        return domain.matches("[a-z0-9]([a-z0-9.-]*[a-z0-9])?") && !domain.contains("..")
                ? dir.resolve(domain + ".policy") : null;
    }

    private Optional<Cached> load(String domain) {
        if (dir == null || file(domain) == null || !Files.isRegularFile(file(domain))) {
            return Optional.empty();
        }
        try {
            String all = Files.readString(file(domain), StandardCharsets.UTF_8);
            int blank = all.indexOf("\n\n");
            String[] head = all.substring(0, Math.max(blank, 0)).split("\n");
            if (blank < 0 || head.length != 2 || !head[0].startsWith("id: ") || !head[1].startsWith("fetched: ")) {
                throw new IOException("no id and fetched lines");
            }
            String text = all.substring(blank + 2);
            return Optional.of(new Cached(head[0].substring(4), Instant.parse(head[1].substring(9)), text,
                    StsPolicy.parse(text)));
        } catch (IOException | DateTimeParseException | StsPolicy.Invalid e) {
            log.warn("MTA-STS policy file {} ignored: {}", file(domain), e.getMessage());
            return Optional.empty();
        }
    }
}
