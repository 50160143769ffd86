package org.backstopmx.forwarder;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.backstopmx.forwarder.smtp.TlsaRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link DaneGate}'s table (RFC 7672 §2), from answers given by hand; the real lookups are in {@link DaneTest}. */
class DaneGateTest {
    private static final TlsaRecord EE = new TlsaRecord(3, 1, 1, new byte[32]);
    private static final TlsaRecord PKIX = new TlsaRecord(1, 1, 1, new byte[32]);
    private static final TlsaRecord UNKNOWN_SELECTOR = new TlsaRecord(3, 7, 1, new byte[32]);

    static Stream<Arguments> table() {
        DnssecAnswer secure = DnssecAnswer.of(DnssecStatus.SECURE);
        return Stream.of(
                row("usable records authenticate", secure, tlsa(EE, PKIX), "authenticate [3 1 1]"),
                row("MX bogus", DnssecAnswer.failed(DnssecStatus.BOGUS, "x"), tlsa(EE), "refuse dane-bogus"),
                row("MX lookup failed", DnssecAnswer.failed(DnssecStatus.FAILED, "x"), tlsa(EE),
                        "refuse dane-lookup-failed"),
                row("MX insecure", DnssecAnswer.of(DnssecStatus.INSECURE), tlsa(EE), "lower OPPORTUNISTIC"),
                row("TLSA bogus", secure, DnssecAnswer.failed(DnssecStatus.BOGUS, "x"), "refuse dane-bogus"),
                row("TLSA lookup failed", secure, DnssecAnswer.failed(DnssecStatus.FAILED, "x"),
                        "refuse dane-lookup-failed"),
                row("TLSA insecure", secure, new DnssecAnswer(DnssecStatus.INSECURE, List.of(EE), ""),
                        "lower OPPORTUNISTIC"),
                row("no TLSA records", secure, secure, "lower OPPORTUNISTIC"),
                row("only unusable records", secure, tlsa(PKIX, UNKNOWN_SELECTOR), "lower REQUIRED"));
    }

    private static Arguments row(String name, DnssecAnswer mx, DnssecAnswer tlsa, String expected) {
        return Arguments.of(name, mx, tlsa, expected);
    }

    private static DnssecAnswer tlsa(TlsaRecord... records) {
        return new DnssecAnswer(DnssecStatus.SECURE, List.of(records), "");
    }

    @ParameterizedTest(name = "{0}: {3}")
    @MethodSource("table")
    void decidesEachHost(String name, DnssecAnswer mx, DnssecAnswer tlsa, String expected) {
        DaneGate gate = new DaneGate(lookup(Map.of("example.org", mx), Map.of("_25._tcp.mx.example.org", tlsa)));
        assertThat(describe(gate.forHost(gate.plan("example.org", false), Route.Destination.mx("mx.example.org"))))
                .isEqualTo(expected);
    }

    @ParameterizedTest(name = "configured route: {3}")
    @MethodSource("table")
    void aConfiguredRouteNeedsNoMxAnswerAndUsesItsPort(String name, DnssecAnswer mx, DnssecAnswer tlsa,
            String expected) {
        DaneGate gate = new DaneGate(lookup(Map.of(), Map.of("_2525._tcp.hub.example.org", tlsa)));
        String verdict = describe(gate.forHost(gate.plan("example.org", true),
                new Route.Destination("hub.example.org", 2525, List.of())));
        // the MX answer is never asked: rows that differ only in it decide by their TLSA answer alone
        assertThat(verdict).isEqualTo(name.startsWith("MX") ? "authenticate [3 1 1]" : expected);
    }

    @Test
    void addressesHaveNoTlsaRecords() {
        DaneGate gate = new DaneGate(lookup(Map.of(), Map.of()));
        assertThat(describe(gate.forHost(gate.plan("[192.0.2.1]", false),
                new Route.Destination("192.0.2.1", 25, List.of())))).isEqualTo("lower OPPORTUNISTIC");
        assertThat(describe(gate.forHost(gate.plan("example.org", true),
                new Route.Destination("192.0.2.1", 25, List.of())))).isEqualTo("lower OPPORTUNISTIC");
    }

    private static String describe(DaneGate.ForHost verdict) {
        if (verdict instanceof DaneGate.Authenticate a) {
            return "authenticate " + a.records().stream().map(r -> r.usage() + " " + r.selector() + " "
                    + r.matchingType()).toList();
        }
        if (verdict instanceof DaneGate.Lower l) {
            return "lower " + l.level();
        }
        return "refuse " + ((DaneGate.Refuse) verdict).failure().label();
    }

    /** Answers from maps; anything not in them is a failed lookup. */
    private static DnssecLookup lookup(Map<String, DnssecAnswer> mx, Map<String, DnssecAnswer> tlsa) {
        DnssecAnswer none = DnssecAnswer.failed(DnssecStatus.FAILED, "not in the test's map");
        return new DnssecLookup() {
            @Override
            public DnssecAnswer mx(String domain) {
                return mx.getOrDefault(domain, none);
            }

            @Override
            public DnssecAnswer tlsa(String host, int port) {
                return tlsa.getOrDefault("_" + port + "._tcp." + host, none);
            }
        };
    }
}
