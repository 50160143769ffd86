package org.backstopmx.queue;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicInteger;
import org.backstopmx.core.IncomingMessage;
import org.backstopmx.core.QueueId;

/**
 * Child JVM of {@link QueueCrashTest}: leaves one body received and never committed, then commits from several
 * threads, prints {@code COMMITTED <id>} as each commit returns, and halts the JVM (no shutdown hooks, no close) as
 * soon as enough have been printed, while the other threads are in the middle of their commits.
 *
 * <p>Arguments: queue directory, threads, number of commits after which to halt.
 */
public final class CrashingCommitter {
    private CrashingCommitter() {
    }

    static int sizeOf(QueueId id) {
        return 2000 + Math.floorMod(id.hashCode(), 7000);
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int haltAfter = Integer.parseInt(args[2]);
        Clock clock = Clock.systemUTC();
        PrintStream out = System.out;
        H2MailQueue queue = H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, clock);

        QueueId uncommitted = QueueId.next(clock);
        IncomingMessage never = queue.receive(uncommitted);
        never.body().write(TestMessages.body(uncommitted, 5000));
        never.body().flush();
        synchronized (out) {
            out.println("UNCOMMITTED " + uncommitted);
            out.flush();
        }

        AtomicInteger printed = new AtomicInteger();
        for (int t = 0; t < threads; t++) {
            new Thread(() -> {
                try {
                    while (true) {
                        QueueId id = QueueId.next(clock);
                        byte[] body = TestMessages.body(id, sizeOf(id));
                        IncomingMessage m = queue.receive(id);
                        m.body().write(body);
                        m.commit(TestMessages.envelope(id, clock, body.length, "crash@example.net",
                                "rcpt@example.org", "other@example.org"));
                        synchronized (out) {
                            out.println("COMMITTED " + id);
                            out.flush();
                        }
                        if (printed.incrementAndGet() >= haltAfter) {
                            Runtime.getRuntime().halt(0);
                        }
                    }
                } catch (Exception e) {
                    e.printStackTrace();
                    Runtime.getRuntime().halt(3);
                }
            }, "committer-" + t).start();
        }
        Thread.sleep(120_000);
        Runtime.getRuntime().halt(2); // never reached unless commits hang
    }
}
