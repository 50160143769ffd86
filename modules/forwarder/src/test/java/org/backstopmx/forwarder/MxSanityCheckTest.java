package org.backstopmx.forwarder;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.forwarder.MxSanityCheck.Verdict;
import org.backstopmx.testkit.Dnsmasq;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The MX sanity check against a real DNS server (dnsmasq on loopback) with one good zone and broken ones. */
class MxSanityCheckTest {
    private static Dnsmasq dns;
    private static MxSanityCheck check;

    @BeforeAll
    static void start() {
        dns = Dnsmasq.start(
                "--mx-host=good.test,primary.good.test,10", "--mx-host=good.test,MX2.Backstop.test,20",
                "--host-record=primary.good.test,127.0.0.31",
                "--mx-host=notlisted.test,primary.notlisted.test,10", "--mx-host=notlisted.test,other.example.test,20",
                "--host-record=primary.notlisted.test,127.0.0.32",
                "--mx-host=first.test,mx2.backstop.test,10", "--mx-host=first.test,primary.first.test,20",
                "--host-record=primary.first.test,127.0.0.33",
                "--mx-host=lost.test,gone.lost.test,10", "--mx-host=lost.test,mx2.backstop.test,20",
                "--mx-host=shared.test,primary.shared.test,10", "--mx-host=shared.test,mx2.backstop.test,20",
                "--mx-host=shared.test,peer.shared.test,20", "--host-record=primary.shared.test,127.0.0.34",
                "--mx-host=alias.test,primary.alias.test,10", "--mx-host=alias.test,backup-alias.test,20",
                "--host-record=primary.alias.test,127.0.0.35",
                "--host-record=nomx.test,127.0.0.36");
        check = new MxSanityCheck(Set.of("mx2.backstop.test", "Backup-Alias.test."),
                new DnsjavaMxResolver(new DnsConfig(dns.address(), Duration.ofSeconds(2))));
    }

    @AfterAll
    static void stop() {
        dns.close();
    }

    @Test
    void aBackupMxBehindAResolvablePrimaryIsOk() {
        MxSanityCheck.Result r = check.check("GOOD.test");
        assertThat(r.ok()).as(r.detail()).isTrue();
        assertThat(r.domain()).isEqualTo("good.test");
        assertThat(r.detail()).contains("[10 primary.good.test, 20 mx2.backstop.test]");
        assertThat(check.check("alias.test").verdict()).as("a self-name counts as us").isEqualTo(Verdict.OK);
    }

    @Test
    void eachBrokenZoneGetsItsReason() {
        assertThat(check.checkAll(List.of("notlisted.test", "first.test", "lost.test", "shared.test", "nomx.test",
                "nowhere.test"))).extracting(MxSanityCheck.Result::verdict).containsExactly(Verdict.NOT_LISTED,
                        Verdict.MOST_PREFERRED, Verdict.PRIMARY_UNRESOLVABLE, Verdict.SHARED_PREFERENCE,
                        Verdict.NO_MX, Verdict.NO_MX);
        assertThat(check.check("lost.test").detail()).contains("gone.lost.test (MX 10) has no address record");
        assertThat(check.check("shared.test").detail()).contains("peer.shared.test shares our preference 20");
    }

    @Test
    void aResolverThatDoesNotAnswerIsADnsErrorNotAVerdictOnTheZone() {
        try (Dnsmasq.BlackHole hole = new Dnsmasq.BlackHole()) {
            MxSanityCheck silent = new MxSanityCheck(Set.of("mx2.backstop.test"),
                    new DnsjavaMxResolver(new DnsConfig(hole.address(), Duration.ofMillis(300))));
            assertThat(silent.check("good.test").verdict()).isEqualTo(Verdict.DNS_ERROR);
        }
    }
}
