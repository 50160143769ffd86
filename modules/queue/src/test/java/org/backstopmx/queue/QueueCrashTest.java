package org.backstopmx.queue;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.QueueId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM that commits from several threads is halted (like kill -9: no shutdown hooks, no close) in the middle of
 * other commits; every commit that returned must be there after reopening, with its exact body, and the body that
 * was never committed must be gone.
 */
class QueueCrashTest {
    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedMessageSurvivesAHaltAndNothingUncommittedRemains() throws Exception {
        ChildJvm.Result child = ChildJvm.run(CrashingCommitter.class, dir.toString(), "6", "300");

        assertThat(child.exitCode()).as("child stderr:%n%s", child.stderr()).isZero();
        List<QueueId> committed = child.linesStartingWith("COMMITTED ").stream().map(QueueId::new).toList();
        QueueId uncommitted = new QueueId(child.linesStartingWith("UNCOMMITTED ").get(0));
        assertThat(committed).hasSizeGreaterThanOrEqualTo(300);
        Path uncommittedFile = dir.resolve("spool").resolve(Spool.subdirectory(uncommitted))
                .resolve(uncommitted.value());
        assertThat(uncommittedFile).as("the halted JVM left its body file").exists();

        try (H2MailQueue queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE,
                Clock.systemUTC())) {
            for (QueueId id : committed) {
                Envelope e = queue.envelope(id).orElseThrow(() -> new AssertionError(id + " was acknowledged but lost"));
                assertThat(e.recipients()).hasSize(2);
                assertThat(TestMessages.read(queue.openBody(id)))
                        .isEqualTo(TestMessages.body(id, CrashingCommitter.sizeOf(id)));
            }
            assertThat(queue.find(uncommitted)).isEmpty();
            assertThat(Files.exists(uncommittedFile)).as("uncommitted body removed at open").isFalse();
            // commits that had not returned at the halt may or may not be there, but never half
            long messages = queue.stats().messages();
            assertThat(messages).isGreaterThanOrEqualTo(committed.size());
            assertThat(queue.list(Integer.MAX_VALUE)).hasSize((int) messages)
                    .allSatisfy(m -> assertThat(m.recipients()).hasSize(2));
            try (var files = Files.walk(dir.resolve("spool"))) {
                assertThat(files.filter(Files::isRegularFile).count()).isEqualTo(messages);
            }
        }
    }
}
