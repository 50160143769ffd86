package org.backstopmx.smtpin;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.backstopmx.core.Metrics.ScreenCheck;
import org.backstopmx.core.Metrics.ScreenResult;
import org.backstopmx.core.SmtpReply;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.ScreenConfig.DnsList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether a client may send mail, from what the DNS lists of {@code screen.dnsbl} and {@code screen.dnswl}
 * say of it (Postfix postscreen's DNSBL test): every list asked at once, each block list that names the client adds
 * its weight to the score, each allow list takes its weight off, and a score at or above {@code screen.threshold}
 * refuses the client with {@code 554 5.7.1} ({@code screen.action: reject}) or {@code 450 4.7.1} ({@code tempfail}).
 * A list that does not answer in {@code dns.timeout}, or fails, counts as not listing the client: screening never
 * refuses mail because DNS is down. A client in {@code screen.trusted} is not looked up.
 *
 * <p>A refused client is logged once, with the lists that named it. Each list's answer and the verdict are counted
 * in {@code backstop.screen.decisions}. Thread-safe; the verdict is computed on dnsjava's threads.
 */
final class ClientScreen {
    private static final Logger LOG = LoggerFactory.getLogger(ClientScreen.class);

    private final ScreenConfig config;
    private final ClientTrust trust;
    private final DnsLists lists;
    private final SmtpMetrics metrics;

    /**
     * The verdict on one client.
     *
     * @param score    the sum of the weights of the block lists that named it, less those of the allow lists
     * @param listedBy the zones of the block lists that named it, in configuration order
     * @param refusal  the reply to its commands, or null when it may go on
     * @param allowListed whether an allow list named it (it is then not greylisted)
     */
    record Verdict(int score, List<String> listedBy, SmtpReply refusal, boolean allowListed) {
        static final Verdict PASS = new Verdict(0, List.of(), null, false);
    }

    /** @return null when there is nothing to look up ({@code screen.dnsbl} and {@code screen.dnswl} empty) */
    /** @param trust who is never screened */
    static ClientScreen create(ScreenConfig config, ClientTrust trust, DnsConfig dns, SmtpMetrics metrics) {
        return config.hasLists() ? new ClientScreen(config, trust, new DnsLists(dns), metrics) : null;
    }

    private ClientScreen(ScreenConfig config, ClientTrust trust, DnsLists lists, SmtpMetrics metrics) {
        this.config = config;
        this.trust = trust;
        this.lists = lists;
        this.metrics = metrics;
    }

    /** Starts the lookups for {@code client}; the future completes within {@code dns.timeout}, never exceptionally. */
    CompletableFuture<Verdict> screen(InetAddress client) {
        if (trust.trusts(client)) {
            return CompletableFuture.completedFuture(Verdict.PASS);
        }
        List<CompletableFuture<ScreenResult>> block = ask(config.dnsbl(), client);
        List<CompletableFuture<ScreenResult>> allow = ask(config.dnswl(), client);
        List<CompletableFuture<ScreenResult>> all = new ArrayList<>(block);
        all.addAll(allow);
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                .thenApply(done -> decide(client, block, allow));
    }

    private List<CompletableFuture<ScreenResult>> ask(List<DnsList> zones, InetAddress client) {
        List<CompletableFuture<ScreenResult>> answers = new ArrayList<>();
        for (DnsList list : zones) {
            answers.add(lists.ask(list, client));
        }
        return answers;
    }

    private Verdict decide(InetAddress client, List<CompletableFuture<ScreenResult>> block,
            List<CompletableFuture<ScreenResult>> allow) {
        int score = 0;
        List<String> listedBy = new ArrayList<>();
        List<String> allowedBy = new ArrayList<>();
        for (int i = 0; i < block.size(); i++) {
            DnsList list = config.dnsbl().get(i);
            ScreenResult result = block.get(i).join();
            metrics.screened(ScreenCheck.DNSBL, result);
            if (result == ScreenResult.LISTED) {
                score += list.weight();
                listedBy.add(list.zone());
            }
        }
        for (int i = 0; i < allow.size(); i++) {
            DnsList list = config.dnswl().get(i);
            ScreenResult result = allow.get(i).join();
            metrics.screened(ScreenCheck.DNSWL, result);
            if (result == ScreenResult.LISTED) {
                score -= list.weight();
                allowedBy.add(list.zone());
            }
        }
        if (score < config.threshold()) {
            metrics.screened(ScreenCheck.SCORE, ScreenResult.PASSED);
            return new Verdict(score, List.copyOf(listedBy), null, !allowedBy.isEmpty());
        }
        metrics.screened(ScreenCheck.SCORE, ScreenResult.REFUSED);
        String zones = String.join(", ", listedBy);
        SmtpReply template = config.action() == ScreenConfig.Action.TEMPFAIL ? Replies.SCREEN_TEMPFAIL
                : Replies.SCREEN_REJECT;
        SmtpReply refusal = template.withText(String.format(template.text(), client.getHostAddress(), zones));
        LOG.info("screen: {} [{}]: listed by {}{}, score {} (threshold {}), answered {} {}",
                config.action().configName(), client.getHostAddress(), zones,
                allowedBy.isEmpty() ? "" : ", allowed by " + String.join(", ", allowedBy), score, config.threshold(),
                refusal.code(), refusal.enhanced());
        return new Verdict(score, List.copyOf(listedBy), refusal, !allowedBy.isEmpty());
    }
}
