package org.backstopmx.app.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.backstopmx.app.config.Configs.load;

import java.nio.file.Path;
import java.time.Duration;
import org.backstopmx.core.config.AddressRange;
import org.backstopmx.core.config.BackstopConfig;
import org.backstopmx.core.config.DnsListMatch;
import org.backstopmx.core.config.GreylistMode;
import org.backstopmx.core.config.RateConfig;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.ScreenConfig.DnsList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code screen.*} as the YAML file writes it: DNS lists as mappings, the rate section, an unquoted {@code on}. */
class ScreenConfigLoadingTest {
    @TempDir
    Path dir;

    @Test
    void dnsListsAreMappingsOrZoneNames() throws Exception {
        BackstopConfig config = load(dir, """
                screen:
                  dnsbl:
                    - {zone: Zen.Spamhaus.ORG., weight: 2, match: "127.0.0.[2..11]"}
                    - bl.example
                  dnswl:
                    - zone: list.dnswl.org
                      match: "127.0.[0..255].[1;2;3]"
                  threshold: 3
                  action: TempFail
                  trusted: [203.0.113.25]
                  greet-delay: 2s
                """);

        ScreenConfig screen = config.screen();
        assertThat(screen.dnsbl()).containsExactly(
                new DnsList("zen.spamhaus.org", 2, DnsListMatch.parse("127.0.0.[2..11]")),
                new DnsList("bl.example", 1, DnsListMatch.any()));
        assertThat(screen.dnswl()).containsExactly(
                new DnsList("list.dnswl.org", 1, DnsListMatch.parse("127.0.[0..255].[1;2;3]")));
        assertThat(screen.threshold()).isEqualTo(3);
        assertThat(screen.action()).isEqualTo(ScreenConfig.Action.TEMPFAIL);
        assertThat(screen.trusted()).containsExactly(AddressRange.parse("203.0.113.25"));
        assertThat(screen.greetDelay()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void rateLimitsAndGreylistingAreReadWithAnUnquotedOn() throws Exception {
        BackstopConfig config = load(dir, """
                screen:
                  rate:
                    connections-per-client: 0
                    messages-per-network: 100
                  greylist: on
                  greylist-delay: 10m
                """);

        ScreenConfig screen = config.screen();
        assertThat(screen.rate()).isEqualTo(new RateConfig(0, 240, 600, 100));
        assertThat(screen.greylist()).isEqualTo(GreylistMode.ON);
        assertThat(screen.greylistDelay()).isEqualTo(Duration.ofMinutes(10));
        assertThat(load(dir, "screen:\n  greylist: off\n").screen().greylist())
                .isEqualTo(GreylistMode.OFF);
    }
}
