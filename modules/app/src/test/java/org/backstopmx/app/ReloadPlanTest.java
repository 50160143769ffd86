package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.backstopmx.app.config.ConfigKeys;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DnsListMatch;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.TlsConfig;
import org.junit.jupiter.api.Test;

class ReloadPlanTest {
    private static final BackstopConfig RUNNING = BackstopConfig.defaults();

    @Test
    void theKeysItNamesAreExactlyTheLoadersKeysThatAreNotLive() {
        List<String> notLive = new ArrayList<>(ConfigKeys.all());
        notLive.removeIf(k -> k.equals("self-names") || k.startsWith("domains.") || k.startsWith("routes."));
        assertThat(ReloadPlan.keys()).containsExactlyElementsOf(notLive);
    }

    @Test
    void domainsRoutesAndSelfNamesAreLiveAndEverythingElseWaitsForARestart() {
        Map<String, DomainConfig> domains = Map.of("new.test", new DomainConfig("new.test",
                new HostPort("192.0.2.1", 25), java.util.Set.of("alice"), null));
        BackstopConfig loaded = new BackstopConfig("other-name.test", List.of("peer.test"),
                RUNNING.smtp().withListen(new HostPort("127.0.0.1", 2626)), domains,
                Map.of("bounce.test", new HostPort("192.0.2.2", 25)), RUNNING.queue(), RUNNING.retry(),
                RUNNING.probe(), RUNNING.delivery(), RUNNING.dns(), RUNNING.metrics(), RUNNING.admin());

        ReloadPlan plan = ReloadPlan.of(RUNNING, loaded);

        assertThat(plan.needRestart()).containsExactly("hostname", "smtp.listen");
        assertThat(plan.live().domains()).isEqualTo(domains);
        assertThat(plan.live().routes()).containsOnlyKeys("bounce.test");
        assertThat(plan.live().selfNames()).containsExactly("peer.test");
        assertThat(plan.live().hostname()).isEqualTo(RUNNING.hostname());
        assertThat(plan.live().smtp()).isEqualTo(RUNNING.smtp());
        assertThat(plan.changes(RUNNING)).isTrue();
    }

    @Test
    void aSectionThatAppearsNamesEachOfItsKeys() {
        BackstopConfig loaded = RUNNING.withSmtp(RUNNING.smtp().withTls(new TlsConfig(Path.of("c.pem"), Path.of("k.pem"))));
        assertThat(ReloadPlan.of(RUNNING, loaded).needRestart()).containsExactly("smtp.tls.certificate", "smtp.tls.key");
    }

    @Test
    void screeningIsKeptAcrossAReloadAndAChangeToItWaitsForARestart() {
        ScreenConfig screen = ScreenConfig.defaults().withLists(
                List.of(new ScreenConfig.DnsList("bl.test", 2, DnsListMatch.any())), List.of(), 2);
        BackstopConfig running = RUNNING.withScreen(screen);

        ReloadPlan same = ReloadPlan.of(running, running.withRoutes(Map.of("bounce.test", new HostPort("192.0.2.2", 25))));
        assertThat(same.live().screen()).isEqualTo(screen);
        assertThat(same.needRestart()).isEmpty();

        ReloadPlan delayed = ReloadPlan.of(running, running.withScreen(screen.withGreetDelay(java.time.Duration.ofSeconds(2))));
        assertThat(delayed.needRestart()).containsExactly("screen.greet-delay");
        assertThat(delayed.changes(running)).isFalse();
    }

    @Test
    void theSameConfigurationChangesNothing() {
        ReloadPlan plan = ReloadPlan.of(RUNNING, BackstopConfig.defaults());
        assertThat(plan.needRestart()).isEmpty();
        assertThat(plan.changes(RUNNING)).isFalse();
    }
}
