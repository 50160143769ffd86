package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.SpfResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spool file as the record of acceptance: what is written is read back, and what is damaged is told apart. */
class SpoolFileTest {
    private static final QueueId ID = new QueueId("0190F3A2B1C00001");

    @TempDir
    Path dir;

    private Path write(byte[] body, Envelope e) throws IOException {
        Path file = dir.resolve(ID.value());
        byte[] trailer = SpoolFile.trailer(e);
        byte[] all = new byte[SpoolFile.HEADER.length + body.length + trailer.length];
        System.arraycopy(SpoolFile.HEADER, 0, all, 0, SpoolFile.HEADER.length);
        System.arraycopy(body, 0, all, SpoolFile.HEADER.length, body.length);
        System.arraycopy(trailer, 0, all, SpoolFile.HEADER.length + body.length, trailer.length);
        Files.write(file, all);
        return file;
    }

    private static Envelope envelope(long size) {
        // every field that can carry odd bytes does: spaces, '%', CR LF, UTF-8, an empty (null) sender
        return new Envelope(ID, Instant.parse("2026-12-02T10:00:00.123456789Z"), "2001:db8::25",
                "helo with spaces %41\r\nand a line break", "", "QQ 314%159", DsnRet.HDRS, size,
                List.of(new EnvelopeRecipient("j\u00f6rg@example.org", "SUCCESS,DELAY", "utf-8;j\u00f6rg@example.org"),
                        new EnvelopeRecipient("bob@example.org", "NEVER", null),
                        EnvelopeRecipient.of("carol@example.org")),
                Set.of(MailExtension.SMTPUTF8, MailExtension.EIGHTBITMIME), SpfResult.SOFTFAIL);
    }

    @Test
    void aCompleteFileGivesBackItsEnvelopeAndExactlyItsBody() throws IOException {
        byte[] body = TestMessages.body(ID, 70_000);
        Path file = write(body, envelope(body.length));

        assertThat(SpoolFile.read(file)).isEqualTo(new SpoolFile.Complete(envelope(body.length)));
        assertThat(TestMessages.read(SpoolFile.openBody(file))).isEqualTo(body);
    }

    @Test
    void anEnvelopeWithoutOptionalFieldsRoundTrips() throws IOException {
        Envelope e = new Envelope(ID, Instant.parse("2026-12-02T10:00:00Z"), null, null, "a@example.net", null, null,
                3, List.of(EnvelopeRecipient.of("b@example.org")));
        Path file = write("x\r\n".getBytes(StandardCharsets.US_ASCII), e);
        assertThat(SpoolFile.read(file)).isEqualTo(new SpoolFile.Complete(e));
    }

    @Test
    void anEnvelopeWrittenBeforeTheSpfCheckReadsWithoutAResult() throws IOException {
        Envelope e = envelope(3);
        Path file = write("x\r\n".getBytes(StandardCharsets.US_ASCII), e);
        String trailer = new String(SpoolFile.trailer(e), StandardCharsets.US_ASCII);
        assertThat(trailer).contains("\nspf SOFTFAIL\n");
        // the same envelope as an earlier release wrote it: no spf line, and a checksum over what is left
        Envelope old = new Envelope(e.id(), e.receivedAt(), e.clientAddress(), e.clientHelo(), e.sender(), e.envId(),
                e.ret(), e.size(), e.recipients(), e.extensions());
        write("x\r\n".getBytes(StandardCharsets.US_ASCII), old);
        assertThat(new String(Files.readAllBytes(file), StandardCharsets.US_ASCII)).doesNotContain("\nspf ");
        assertThat(SpoolFile.read(file)).isEqualTo(new SpoolFile.Complete(old));
        assertThat(((SpoolFile.Complete) SpoolFile.read(file)).envelope().spf()).isNull();
    }

    @Test
    void withoutItsEndMarkerAFileIsIncompleteAndHasNoBody() throws IOException {
        byte[] body = TestMessages.body(ID, 5000);
        Path file = write(body, envelope(body.length));
        byte[] all = Files.readAllBytes(file);
        for (int cut : new int[] {all.length - 1, all.length - SpoolFile.END_LENGTH, SpoolFile.HEADER.length + 100,
                SpoolFile.HEADER.length}) {
            Files.write(file, java.util.Arrays.copyOf(all, cut));
            assertThat(SpoolFile.read(file)).as("cut at %d", cut).isInstanceOf(SpoolFile.Incomplete.class);
            assertThatThrownBy(() -> SpoolFile.openBody(file)).isInstanceOf(IOException.class);
        }
        Files.write(file, new byte[0]);
        assertThat(SpoolFile.read(file)).isInstanceOf(SpoolFile.Incomplete.class);
    }

    @Test
    void aDamagedEnvelopeIsUnreadableNotIncomplete() throws IOException {
        byte[] body = TestMessages.body(ID, 5000);
        Path file = write(body, envelope(body.length));
        byte[] all = Files.readAllBytes(file);
        int inEnvelope = SpoolFile.HEADER.length + body.length + 5;
        all[inEnvelope] ^= 0x01;
        Files.write(file, all);
        assertThat(SpoolFile.read(file)).isEqualTo(new SpoolFile.Unreadable("envelope checksum mismatch"));
    }

    @Test
    void aFileUnderAnotherQueueIdsNameIsUnreadable() throws IOException {
        byte[] body = TestMessages.body(ID, 100);
        Path file = write(body, envelope(body.length));
        Path other = Files.move(file, dir.resolve("0190F3A2B1C00002"));
        assertThat(SpoolFile.read(other)).isInstanceOf(SpoolFile.Unreadable.class);
    }

    @Test
    void aBodyOfTheEarlierFormatIsLegacyAndReadWhole() throws IOException {
        byte[] body = TestMessages.body(ID, 9000);
        Path file = Files.write(dir.resolve(ID.value()), body);
        assertThat(SpoolFile.read(file)).isEqualTo(new SpoolFile.Legacy(body.length));
        assertThat(TestMessages.read(SpoolFile.openBody(file))).isEqualTo(body);
    }
}
