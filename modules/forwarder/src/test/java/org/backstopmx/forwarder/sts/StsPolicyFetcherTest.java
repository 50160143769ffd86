package org.backstopmx.forwarder.sts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.backstopmx.forwarder.smtp.TlsTrust;
import org.backstopmx.testkit.ConnectTunnel;
import org.backstopmx.testkit.TestCa;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The policy fetch over real HTTPS on loopback: what it takes and what it refuses (RFC 8461 §3.3). */
class StsPolicyFetcherTest {
    private static final String POLICY = "version: STSv1\nmode: enforce\nmx: mx.a.test\nmax_age: 600\n";

    private static PolicyServer server;
    private static ConnectTunnel tunnel;
    private static SSLContext trust;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        TestCa ca = TestCa.create(dir, "fetch-ca");
        trust = TlsTrust.caFile(ca.pem()).verifying();
        server = new PolicyServer(ca.server("policy", List.of("mta-sts.a.test", "mta-sts.b.test")));
        tunnel = ConnectTunnel.to(server.port());
    }

    @AfterAll
    static void stop() throws Exception {
        tunnel.close();
        server.close();
    }

    private static StsPolicyFetcher fetcher(SSLContext context) {
        return new StsPolicyFetcher(context, tunnel.selector(), Duration.ofSeconds(10));
    }

    @Test
    void fetchesThePolicyFromTheWellKnownUrlOfTheDomain() throws Exception {
        server.answer("a.test", PolicyServer.Answer.policy(POLICY));
        assertThat(fetcher(trust).fetch("A.test.")).isEqualTo(POLICY);
        assertThat(tunnel.targets()).contains("mta-sts.a.test:443");
    }

    @Test
    void followsNoRedirect() {
        server.answer("b.test", new PolicyServer.Answer(302, "text/plain", "", "https://mta-sts.a.test/.well-known/mta-sts.txt"));
        assertThatThrownBy(() -> fetcher(trust).fetch("b.test")).isInstanceOf(IOException.class)
                .hasMessageContaining("HTTP 302");
    }

    @Test
    void refusesABodyOver64KibAndAnotherMediaType() {
        server.answer("b.test", PolicyServer.Answer.policy(POLICY + "x: " + "y".repeat(70_000) + "\n"));
        assertThatThrownBy(() -> fetcher(trust).fetch("b.test")).isInstanceOf(IOException.class)
                .hasMessageContaining("larger than 65536");
        server.answer("b.test", new PolicyServer.Answer(200, "text/html", POLICY, null));
        assertThatThrownBy(() -> fetcher(trust).fetch("b.test")).isInstanceOf(IOException.class)
                .hasMessageContaining("text/html");
    }

    @Test
    void refusesACertificateForAnotherNameOrFromAnUntrustedCa() throws Exception {
        server.answer("c.test", PolicyServer.Answer.policy(POLICY)); // not on the certificate
        assertThatThrownBy(() -> fetcher(trust).fetch("c.test")).isInstanceOf(IOException.class);
        server.answer("a.test", PolicyServer.Answer.policy(POLICY));
        assertThatThrownBy(() -> fetcher(TlsTrust.DEFAULT.verifying()).fetch("a.test"))
                .isInstanceOf(IOException.class);
    }
}
