package org.backstopmx.forwarder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.HostPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How {@link DnsjavaDnssecLookup} takes its trust anchors; the lookups themselves are in {@link DaneTest}. */
class DnsjavaDnssecLookupTest {
    private static final HostPort NOWHERE = new HostPort("127.0.0.1", 9);
    private static final Path DEBIAN_ROOT_KEY = Path.of("/usr/share/dns/root.key");

    @Test
    void readsTheRootTrustAnchorsDebianShips() {
        if ("true".equals(System.getenv("CI"))) {
            assertThat(DEBIAN_ROOT_KEY).as("dns-root-data (Debian package) is needed in CI").exists();
        } else {
            assumeTrue(Files.exists(DEBIAN_ROOT_KEY), "dns-root-data is not installed: apt-get install dns-root-data");
        }
        new DnsjavaDnssecLookup(new DnsConfig(NOWHERE, Duration.ofSeconds(1), DEBIAN_ROOT_KEY, false), Clock.systemUTC());
    }

    @Test
    void aFileWithoutAnchorsOrNoneAtAllIsRefusedWithItsKey(@TempDir Path dir) throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.key"), "; nothing here\n");
        assertThatThrownBy(() -> new DnsjavaDnssecLookup(
                new DnsConfig(NOWHERE, Duration.ofSeconds(1), empty, false), Clock.systemUTC()))
                .hasMessageStartingWith("dns.trust-anchor-file: ").hasMessageEndingWith("no DS or DNSKEY record");
        assertThatThrownBy(() -> new DnsjavaDnssecLookup(new DnsConfig(NOWHERE, Duration.ofSeconds(1)),
                Clock.systemUTC())).hasMessageContaining("dns.trust-anchor-file or dns.trust-ad");
    }

    @Test
    void aServerThatDoesNotAnswerIsAFailedLookupNotAnInsecureOne() {
        DnssecLookup lookup = new DnsjavaDnssecLookup(new DnsConfig(NOWHERE, Duration.ofMillis(200), null, true),
                Clock.systemUTC());
        assertThat(lookup.tlsa("mx.example.org", 25).status()).isEqualTo(DnssecStatus.FAILED);
    }
}
