package org.backstopmx.forwarder.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.backstopmx.core.Metrics;
import org.backstopmx.core.config.AcceptConfig;
import org.backstopmx.core.config.AcceptMode;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.ProbeConfig;
import org.backstopmx.core.config.QueueConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Standby mode ({@code accept: when-primary-down}) on the forwarder's side: a real primary on 127.0.0.1 stopped and
 * restarted, probes run by moving the clock {@code probe.interval} at a time, the decision read as SMTP in reads it.
 */
class StandbyTest {
    private static final Duration PROBE = Duration.ofSeconds(30);
    /** How the connector names the host that answered. */
    private static final String HOST = "127.0.0.1[127.0.0.1]";

    @TempDir
    Path dir;

    private ConfiguredForwarder rig;

    @BeforeEach
    void start() throws Exception {
        rig = new ConfiguredForwarder(dir, DomainConfig.acceptAll("example.org").withAccept(
                AcceptMode.WHEN_PRIMARY_DOWN), QueueConfig.defaults(),
                BackstopConfig.defaults().withProbe(new ProbeConfig(PROBE)).withAccept(new AcceptConfig(2)));
    }

    @AfterEach
    void stop() throws Exception {
        rig.close();
    }

    @Test
    void aPrimarySeenUpIsStoodByAndItsMailIsTakenOnlyAfterTwoProbesInARowFindItDown() throws Exception {
        assertThat(standingBy()).as("presumed up at start").isEqualTo("example.org");
        assertThat(accepting("example.org")).isZero();
        probe();
        assertThat(standingBy()).as("named by the host that answered").isEqualTo(HOST);

        rig.primary.stop();
        probe();
        assertThat(standingBy()).as("one lost probe does not flip it").isEqualTo(HOST);
        assertThat(accepting("example.org")).isZero();
        probe();
        assertThat(standingBy()).as("down for 2 probes in a row").isNull();
        assertThat(accepting("example.org")).isEqualTo(1);

        rig.primary.restart();
        probe();
        assertThat(standingBy()).as("one answer does not flip it back either").isNull();
        probe();
        assertThat(standingBy()).isEqualTo(HOST);
        assertThat(accepting("example.org")).isZero();
    }

    @Test
    void aPrimaryFlappingAtEveryProbeDoesNotFlapAcceptance() throws Exception {
        for (int i = 0; i < 6; i++) {
            flip(i);
            probe();
            assertThat(standingBy()).as("probe %d", i).isNotNull();
        }
        rig.primary.stop();
        probe();
        probe();
        assertThat(standingBy()).isNull();
        for (int i = 0; i < 6; i++) {
            flip(i + 1); // up, down, up ...
            probe();
            assertThat(standingBy()).as("probe %d while taking mail", i).isNull();
            assertThat(accepting("example.org")).isEqualTo(1);
        }
    }

    @Test
    void aDomainThatAcceptsAlwaysIsNeverStoodByNorProbed() throws Exception {
        assertThat(rig.forwarder.standby().standingBy("example.com")).isEmpty();
        assertThat(accepting("example.com")).isEqualTo(1);
        assertThat(rig.forwarder.standby().standingBy("elsewhere.example")).as("not served").isEmpty();
        probe();
        assertThat(rig.primary.connections()).as("only example.org's primary is probed").isEqualTo(1);
    }

    @Test
    void aProbeIsDueEveryIntervalNotBefore() throws Exception {
        rig.forwarder.probeNow();
        int before = rig.primary.connections();
        rig.clock.advance(PROBE.minusSeconds(1));
        rig.forwarder.probeNow();
        assertThat(rig.primary.connections()).isEqualTo(before);
        rig.clock.advance(Duration.ofSeconds(1));
        rig.forwarder.probeNow();
        assertThat(rig.primary.connections()).isEqualTo(before + 1);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "refusing; answered: stays refusing and the streak restarts,  false, 1, true,  false, 0",
            "refusing; first silence: counted,                           false, 0, false, false, 1",
            "refusing; second silence: accepts,                          false, 1, false, true,  0",
            "accepting; silence: stays accepting and the streak restarts, true,  1, false, true,  0",
            "accepting; first answer: counted,                           true,  0, true,  true,  1",
            "accepting; second answer: refuses,                          true,  1, true,  false, 0",
    })
    void hysteresisNeedsDownAfterProbesInARowEitherWay(String row, boolean accepting, int streak, boolean answered,
            boolean acceptingAfter, int streakAfter) {
        Instant now = Instant.parse("2026-11-28T10:00:00Z");
        PrimaryWatch.Watched after = new PrimaryWatch.Watched(accepting, streak, "mx", now)
                .after(answered, "mx", 2, now.plus(PROBE));
        assertThat(after.accepting()).isEqualTo(acceptingAfter);
        assertThat(after.streak()).isEqualTo(streakAfter);
        assertThat(after.nextProbe()).isEqualTo(now.plus(PROBE));
    }

    /** Even {@code i}: primary stopped; odd: running. */
    private void flip(int i) throws Exception {
        if (i % 2 == 0) {
            rig.primary.stop();
        } else {
            rig.primary.restart();
        }
    }

    private void probe() {
        rig.forwarder.probeNow();
        rig.clock.advance(PROBE);
    }

    private String standingBy() {
        return rig.forwarder.standby().standingBy("example.org").orElse(null);
    }

    private double accepting(String domain) {
        return rig.registry.get(Metrics.DOMAIN_ACCEPTING).tag("domain", domain).gauge().value();
    }
}
