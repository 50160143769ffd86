package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.forwarder.DnsjavaMxResolver;
import org.backstopmx.testkit.Dnsmasq;
import org.junit.jupiter.api.Test;

/** The hourly MX check as the metrics see it: one gauge per served domain, its reason following the zone and reloads. */
class MxConfigWatchTest {
    @Test
    void eachServedDomainHasOneGaugeWhoseReasonFollowsTheCheckAndReloads() throws Exception {
        try (Dnsmasq dns = Dnsmasq.start(
                "--mx-host=good.test,primary.good.test,10", "--mx-host=good.test,backstop.example.test,20",
                "--host-record=primary.good.test,127.0.0.51",
                "--mx-host=bad.test,primary.bad.test,10", "--mx-host=bad.test,someone-else.test,20",
                "--host-record=primary.bad.test,127.0.0.52")) {
            BackstopConfig both = BackstopConfig.defaults().withDomains(Map.of(
                    "good.test", DomainConfig.acceptAll("good.test"), "bad.test", DomainConfig.acceptAll("bad.test")));
            AtomicReference<BackstopConfig> live = new AtomicReference<>(both);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            MxConfigWatch watch = new MxConfigWatch(live::get,
                    new DnsjavaMxResolver(new DnsConfig(dns.address(), Duration.ofSeconds(2))), registry);

            watch.run();
            assertThat(gauge(registry, "good.test", "ok")).isEqualTo(1.0);
            assertThat(gauge(registry, "bad.test", "not_listed")).isEqualTo(0.0);

            // the operator adds us to bad.test's zone under our second name, and reloads with that self-name
            live.set(new BackstopConfig("backstop.example.test", java.util.List.of("someone-else.test"),
                    both.smtp(), Map.of("bad.test", DomainConfig.acceptAll("bad.test")), Map.of(), both.queue(),
                    both.retry(), both.probe(), both.dns(), both.metrics(), both.admin()));
            watch.run();
            assertThat(registry.find(Metrics.MX_CONFIG_OK).tag("domain", "bad.test").gauges())
                    .singleElement().satisfies(g -> {
                        assertThat(g.getId().getTag("reason")).isEqualTo("ok");
                        assertThat(g.value()).isEqualTo(1.0);
                    });
            assertThat(registry.find(Metrics.MX_CONFIG_OK).tag("domain", "good.test").gauges())
                    .as("a domain no longer served has no gauge").isEmpty();
        }
    }

    private static double gauge(SimpleMeterRegistry registry, String domain, String reason) {
        Gauge g = registry.get(Metrics.MX_CONFIG_OK).tag("domain", domain).tag("reason", reason).gauge();
        return g.value();
    }
}
