package org.backstopmx.smtpin.spf;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.stream.Stream;
import org.backstopmx.core.SpfResult;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.testkit.Dnsmasq;
import org.backstopmx.testkit.SpfRecords;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The SPF check against the records of {@link SpfRecords}, served by a real dnsmasq on loopback. */
class SpfCheckTest {
    private static final Duration TIMEOUT = Duration.ofMillis(500);
    private static Dnsmasq dns;
    private static Dnsmasq.BlackHole blackHole;
    private static Dnsmasq servfail;
    private static SpfCheck check;

    @BeforeAll
    static void serve() {
        blackHole = new Dnsmasq.BlackHole();
        dns = Dnsmasq.withSilentZone("slow.test", blackHole, SpfRecords.options().toArray(String[]::new));
        servfail = Dnsmasq.servfailInFrontOf(dns);
        check = new SpfCheck(new DnsConfig(dns.address(), TIMEOUT));
    }

    @AfterAll
    static void stop() {
        servfail.close();
        dns.close();
        blackHole.close();
    }

    static Stream<Arguments> senders() {
        return Stream.of(
                Arguments.of("a@pass.spf.test", SpfResult.PASS),
                Arguments.of("a@include.spf.test", SpfResult.PASS),
                Arguments.of("j\u00f6rg@b\u00fccher.spf.test", SpfResult.PASS),
                Arguments.of("a@FAIL.spf.test", SpfResult.FAIL),
                Arguments.of("a@softfail.spf.test", SpfResult.SOFTFAIL),
                Arguments.of("a@neutral.spf.test", SpfResult.NEUTRAL),
                Arguments.of("a@none.spf.test", SpfResult.NONE),
                Arguments.of("a@absent.spf.test", SpfResult.NONE),
                Arguments.of("a@permerror.spf.test", SpfResult.PERMERROR),
                Arguments.of("a@twice.spf.test", SpfResult.PERMERROR),
                Arguments.of("a@voids.spf.test", SpfResult.PERMERROR),
                Arguments.of("a@lookups.spf.test", SpfResult.PERMERROR),
                Arguments.of("a@x.slow.test", SpfResult.TEMPERROR),
                Arguments.of("a@localhost", SpfResult.NONE));
    }

    @ParameterizedTest(name = "{0} is {1}")
    @MethodSource("senders")
    void eachRecordGivesItsResult(String sender, SpfResult expected) throws Exception {
        SpfVerdict v = check.check(InetAddress.getByName("127.0.0.1"), sender, "client.test");
        assertThat(v.result()).isEqualTo(expected);
        assertThat(v.identity()).isEqualTo(SpfVerdict.MAILFROM);
    }

    @Test
    void aResolverThatAnswersServfailIsATemperror() throws Exception {
        SpfCheck behindServfail = new SpfCheck(new DnsConfig(servfail.address(), TIMEOUT));
        assertThat(behindServfail.check(InetAddress.getByName("127.0.0.1"), "a@pass.spf.test", "client.test")
                .result()).isEqualTo(SpfResult.TEMPERROR);
    }

    @Test
    void aResolverThatNeverAnswersIsATemperrorWithinTheTimeout() throws Exception {
        SpfCheck silent = new SpfCheck(new DnsConfig(blackHole.address(), TIMEOUT));
        long start = System.nanoTime();
        assertThat(silent.check(InetAddress.getByName("127.0.0.1"), "a@pass.spf.test", "client.test").result())
                .isEqualTo(SpfResult.TEMPERROR);
        // one query, tried twice at most (dnsjava's retry): well under the check's overall limit
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(SpfCheck.TIME_LIMIT);
    }

    @Test
    void theNullSenderIsCheckedByItsHeloName() throws Exception {
        SpfVerdict pass = check.check(InetAddress.getByName("127.0.0.1"), "", "pass.spf.test");
        assertThat(pass.result()).isEqualTo(SpfResult.PASS);
        assertThat(pass.identity()).isEqualTo(SpfVerdict.HELO);
        assertThat(check.check(InetAddress.getByName("127.0.0.1"), "", "fail.spf.test").result())
                .isEqualTo(SpfResult.FAIL);
        assertThat(check.check(InetAddress.getByName("127.0.0.1"), "", "[127.0.0.1]").result())
                .isEqualTo(SpfResult.NONE);
    }

    @Test
    void aClientOutsideTheRecordFailsWhereLoopbackPasses() throws Exception {
        assertThat(check.check(InetAddress.getByName("192.0.2.9"), "a@pass.spf.test", "client.test").result())
                .isEqualTo(SpfResult.FAIL);
        assertThat(check.check(InetAddress.getByName("192.0.2.1"), "a@fail.spf.test", "client.test").result())
                .isEqualTo(SpfResult.PASS);
    }
}
