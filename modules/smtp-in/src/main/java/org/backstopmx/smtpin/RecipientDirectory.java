package org.backstopmx.smtpin;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.backstopmx.core.config.DomainConfig;

/**
 * The served domains and, for each, which local parts exist. Immutable; a reload builds a new one.
 *
 * <p>A domain without a recipient list accepts any local part (classic backup MX). With a list (and/or a file of
 * addresses, {@code @domain} meaning "the whole domain"), unknown local parts are refused at RCPT time with
 * 550 5.1.1, so Backstop never accepts mail it would later have to bounce (no backscatter). At a domain with
 * {@code recipient-check: callout} the list (if any) is consulted first: a listed local part is accepted without
 * asking, any other is left to the primary ({@link Verdict#VERIFY}).
 */
public final class RecipientDirectory {

    /** What the directory says about one recipient. */
    public enum Verdict {
        ACCEPT,
        /** Not a served domain. */
        RELAY_DENIED,
        /** A served domain that does not have this local part. */
        UNKNOWN_USER,
        /** Not listed at a domain with {@code recipient-check: callout}: its primary (or the cache) decides. */
        VERIFY
    }

    private record DomainRecipients(boolean acceptAll, Set<String> localParts, boolean callout) {
    }

    private final Map<String, DomainRecipients> domains;

    private RecipientDirectory(Map<String, DomainRecipients> domains) {
        this.domains = Map.copyOf(domains);
    }

    /**
     * Builds the directory from the configured domains, reading their recipient files.
     *
     * @throws IllegalArgumentException naming the configuration key when a file cannot be read or names another domain
     */
    public static RecipientDirectory load(Map<String, DomainConfig> configured) {
        Map<String, DomainRecipients> result = new HashMap<>();
        for (DomainConfig d : configured.values()) {
            String domain = d.name().toLowerCase(Locale.ROOT);
            if (!d.validatesRecipients()) {
                result.put(domain, new DomainRecipients(true, Set.of(), false));
                continue;
            }
            Set<String> locals = new HashSet<>();
            boolean all = false;
            if (d.recipients() != null) {
                d.recipients().forEach(l -> locals.add(l.toLowerCase(Locale.ROOT)));
            }
            if (d.recipientsFile() != null) {
                all = readFile(d, domain, locals);
            }
            result.put(domain, new DomainRecipients(all, Set.copyOf(locals), d.callout()));
        }
        return new RecipientDirectory(result);
    }

    private static boolean readFile(DomainConfig d, String domain, Set<String> locals) {
        String key = "domains." + domain + ".recipients-file";
        boolean all = false;
        try {
            int lineNo = 0;
            for (String raw : Files.readAllLines(d.recipientsFile(), StandardCharsets.UTF_8)) {
                lineNo++;
                String line = raw.strip();
                int hash = line.indexOf('#');
                if (hash >= 0) {
                    line = line.substring(0, hash).strip();
                }
                if (line.isEmpty()) {
                    continue;
                }
                line = line.toLowerCase(Locale.ROOT);
                int at = line.lastIndexOf('@');
                if (at < 0) {
                    locals.add(line);
                    continue;
                }
                String lineDomain = line.substring(at + 1);
                if (!lineDomain.equals(domain)) {
                    throw new IllegalArgumentException(key + ": line " + lineNo + " (" + raw.strip()
                            + ") is not an address at " + domain);
                }
                if (at == 0) {
                    all = true;
                } else {
                    locals.add(line.substring(0, at));
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(key + ": cannot read " + d.recipientsFile() + ": " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new IllegalArgumentException(key + ": cannot read " + d.recipientsFile() + ": " + e.getMessage(), e);
        }
        return all;
    }

    /** Whether {@code domain} (lower case, no trailing dot) is served. */
    public boolean serves(String domain) {
        return domains.containsKey(domain);
    }

    /** The verdict for a local part at a domain; both must already have passed {@link RelayPolicy}'s syntax rules. */
    public Verdict lookup(String localPart, String domain) {
        DomainRecipients r = domains.get(domain.toLowerCase(Locale.ROOT));
        if (r == null) {
            return Verdict.RELAY_DENIED;
        }
        if (r.acceptAll() || r.localParts().contains(localPart.toLowerCase(Locale.ROOT))) {
            return Verdict.ACCEPT;
        }
        return r.callout() ? Verdict.VERIFY : Verdict.UNKNOWN_USER;
    }

    public Set<String> domains() {
        return domains.keySet();
    }

    /** How many local parts are listed, over all domains (a domain that accepts any local part adds none). */
    public int listedRecipients() {
        return domains.values().stream().mapToInt(r -> r.localParts().size()).sum();
    }
}
