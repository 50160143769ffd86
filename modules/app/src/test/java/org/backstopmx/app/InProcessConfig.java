package org.backstopmx.app;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.backstopmx.core.config.AdminConfig;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.HostPort;
import org.backstopmx.core.config.MetricsConfig;
import org.backstopmx.core.config.ProbeConfig;
import org.backstopmx.core.config.QueueConfig;
import org.backstopmx.core.config.RateConfig;
import org.backstopmx.core.config.SpfPolicy;

/**
 * The configuration of an appliance run inside a test: SMTP and metrics on free ports of 127.0.0.1, the queue in the
 * test's directory, the admin API on a free port, {@code example.test} served with its primary at {@code 127.0.0.1:primaryPort},
 * no SPF check and no rate limits.
 */
final class InProcessConfig {
    private InProcessConfig() {
    }

    static BackstopConfig serving(Path dir, int primaryPort, Duration probeInterval) {
        BackstopConfig defaults = BackstopConfig.defaults();
        return defaults
                .withSmtp(defaults.smtp().withListen(new HostPort("127.0.0.1", 0)))
                .withQueue(new QueueConfig(dir.resolve("queue"), Duration.ofDays(5), 0, 4.0, 64L << 20))
                .withDomains(Map.of("example.test", new DomainConfig("example.test",
                        new HostPort("127.0.0.1", primaryPort), null, null)))
                .withProbe(new ProbeConfig(probeInterval))
                .withMetrics(new MetricsConfig(new HostPort("127.0.0.1", 0)))
                .withAdmin(new AdminConfig(new HostPort("127.0.0.1", 0), null, null))
                // no SPF check: it would ask the machine's resolver about the test senders' domains; no rate limits:
                // tests send far more than a real client a minute from 127.0.0.1
                .withScreen(defaults.screen().withSpf(SpfPolicy.OFF, false).withRate(RateConfig.off()));
    }
}
