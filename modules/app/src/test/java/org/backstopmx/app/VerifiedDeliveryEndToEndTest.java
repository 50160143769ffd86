package org.backstopmx.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.backstopmx.app.config.ConfigLoader;
import org.backstopmx.core.QueuedMessage;
import org.backstopmx.core.QueuedRecipient;
import org.backstopmx.core.RecipientState;
import org.backstopmx.testkit.Dnsmasq;
import org.backstopmx.testkit.FakePrimaryMx;
import org.backstopmx.testkit.SmtpSubmission;
import org.backstopmx.testkit.TestCa;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * From a YAML file with {@code delivery.tls: verify} and {@code delivery.tls-ca-file} to a delivery over verified
 * TLS: the appliance loads the file as at start, takes a message over SMTP and hands it to a primary whose
 * certificate (from a test CA made with keytool) is for the route's host name, found through dnsmasq; the TLS
 * metric counts the verified session. A primary presenting a certificate for another name gets nothing: the
 * message stays deferred with the reason.
 */
class VerifiedDeliveryEndToEndTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void deliveredOverVerifiedTlsToTheRightNameAndDeferredForAWrongOne() throws Exception {
        TestCa ca = TestCa.create(dir, "primary-ca");
        try (Dnsmasq dns = Dnsmasq.start("--host-record=mx.good.test,127.0.0.1",
                        "--host-record=mx.wrong.test,127.0.0.1");
                FakePrimaryMx good = FakePrimaryMx.start().offerStartTls(ca.server("good", List.of("mx.good.test")));
                FakePrimaryMx wrong = FakePrimaryMx.start()
                        .offerStartTls(ca.server("wrong", List.of("mx.elsewhere.test")))) {
            Path file = dir.resolve("backstop.yaml");
            Files.writeString(file, String.join("\n",
                    "hostname: backstop.tls.test",
                    "smtp:",
                    "  listen: 127.0.0.1:0",
                    "metrics:",
                    "  listen: 127.0.0.1:0",
                    "admin:",
                    "  listen: 127.0.0.1:0",
                    "queue:",
                    "  path: " + dir.resolve("queue"),
                    "dns:",
                    "  server: 127.0.0.1:" + dns.port(),
                    "delivery:",
                    "  tls: verify",
                    "  tls-ca-file: " + ca.pem(),
                    "domains:",
                    "  good.test:",
                    "    route: mx.good.test:" + good.port(),
                    "  wrong.test:",
                    "    route: mx.wrong.test:" + wrong.port(),
                    ""), StandardCharsets.UTF_8);
            try (Appliance appliance = Appliance.start(ConfigLoader.load(Optional.of(file), Map.of()),
                    Clock.systemUTC())) {
                byte[] message = "Subject: verified\r\n\r\nfor the right primary only\r\n"
                        .getBytes(StandardCharsets.US_ASCII);
                try (SmtpSubmission smtp = new SmtpSubmission(appliance.smtpAddress())) {
                    smtp.send("alice@sender.test", List.of("bob@good.test"), message);
                    smtp.send("alice@sender.test", List.of("carol@wrong.test"), message);
                }

                await().atMost(WAIT).until(() -> good.transactions().size() == 1);
                FakePrimaryMx.Transaction delivered = good.transactions().get(0);
                assertThat(delivered.tls()).isTrue();
                assertThat(delivered.rcptTo()).singleElement().asString().contains("bob@good.test");

                await().atMost(WAIT).until(() -> recipient("carol@wrong.test", appliance)
                        .filter(r -> r.state() == RecipientState.DEFERRED).isPresent());
                assertThat(recipient("carol@wrong.test", appliance).orElseThrow().lastReply())
                        .contains("name-mismatch");
                assertThat(recipient("bob@good.test", appliance)).isEmpty();
                assertThat(wrong.transactions()).isEmpty();

                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + appliance.metricsAddress().getPort() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                assertThat(MetricsEndpointTest.value(metrics,
                        "backstop_delivery_tls_total{destination=\"good.test\",level=\"verify\",result=\"verified\"}"))
                        .isGreaterThanOrEqualTo(1);
                assertThat(MetricsEndpointTest.value(metrics, "backstop_delivery_tls_total{destination=\"wrong.test\","
                        + "level=\"verify\",result=\"name-mismatch\"}")).isGreaterThanOrEqualTo(1);
            }
        }
    }

    private static Optional<QueuedRecipient> recipient(String address, Appliance appliance) {
        for (QueuedMessage m : appliance.queue().list(100)) {
            for (QueuedRecipient r : m.recipients()) {
                if (r.address().equals(address)) {
                    return Optional.of(r);
                }
            }
        }
        return Optional.empty();
    }
}
