package org.backstopmx.app;

import jakarta.mail.Session;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.angus.mail.smtp.SMTPTransport;

/**
 * Sending servers that never pause: each thread keeps one SMTP connection to wherever the appliance listens now and
 * sends one unique message after another over it (its token is in the Subject and the Message-ID). A message whose
 * session fails before its {@code 250} is sent again, the same message with the same token, on a new connection, as
 * a sending MTA retries it; so a message that was stored but whose 250 was cut may arrive twice (at-least-once),
 * but a token is answered 250 at most once. Every 250 is recorded with its queue id, the round it happened in and
 * when.
 */
final class ContinuousSenders implements AutoCloseable {
    /** A 250 to the end of DATA. */
    record Ack(String token, String queueId, int round, long atNanos) {
    }

    /** Where the appliance listens now, and which round of the test that is. */
    private record Target(InetSocketAddress smtp, Session session, int round) {
    }

    private static final Session OFFLINE = TestMail.session(new InetSocketAddress("127.0.0.1", 25));

    private final String recipient;
    private final AtomicReference<Target> target = new AtomicReference<>();
    private final Object targetChanged = new Object();
    private final Map<String, Ack> acks = new ConcurrentHashMap<>();
    private final Map<String, byte[]> wire = new ConcurrentHashMap<>();
    private final AtomicInteger failedAttempts = new AtomicInteger();
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, Throwable> crashed = new ConcurrentHashMap<>();
    private volatile boolean stopping;

    private ContinuousSenders(String recipient) {
        this.recipient = recipient;
    }

    /** Starts {@code count} sender threads; they wait for the first {@link #aim}. */
    static ContinuousSenders start(int count, String recipient) {
        ContinuousSenders senders = new ContinuousSenders(recipient);
        for (int i = 0; i < count; i++) {
            String name = "sender-" + i;
            Thread t = new Thread(() -> senders.run(name), name);
            t.setDaemon(true);
            senders.threads.add(t);
            t.start();
        }
        return senders;
    }

    /** From now on, connect to {@code smtp}; 250s are counted for {@code round}. */
    void aim(InetSocketAddress smtp, int round) {
        target.set(new Target(smtp, TestMail.session(smtp), round));
        synchronized (targetChanged) {
            targetChanged.notifyAll();
        }
    }

    int acknowledgedCount() {
        return acks.size();
    }

    /** Every token answered 250, with its queue id. */
    Map<String, Ack> acknowledged() {
        return Map.copyOf(acks);
    }

    /** What went on the wire for each token that was tried (answered 250 or not). */
    byte[] wireBytes(String token) {
        return wire.get(token);
    }

    int tokensTried() {
        return wire.size();
    }

    /** Sessions that failed before a 250 (connection refused, cut by the kill, a 4xx): each was tried again. */
    int failedAttempts() {
        return failedAttempts.get();
    }

    /** A sender thread that died of something other than a failed session; none should. */
    Map<String, Throwable> crashed() {
        return Map.copyOf(crashed);
    }

    private void run(String name) {
        SMTPTransport transport = null;
        Target connectedTo = null;
        String token = null;
        byte[] raw = null;
        int n = 0;
        try {
            while (!stopping) {
                Target t = target.get();
                if (t == null) {
                    awaitTargetOtherThan(null);
                    continue;
                }
                if (token == null) {
                    token = name + "-" + n++;
                    raw = TestMail.message(token, ThreadLocalRandom.current().nextInt(20));
                    wire.put(token, TestMail.onTheWire(OFFLINE, raw));
                }
                try {
                    if (transport == null || connectedTo != t) {
                        closeQuietly(transport);
                        transport = null;
                        connectedTo = t;
                        SMTPTransport fresh = (SMTPTransport) t.session().getTransport("smtp");
                        fresh.connect();
                        transport = fresh;
                    }
                    String queueId = TestMail.send(transport, t.session(), raw, recipient);
                    acks.put(token, new Ack(token, queueId, t.round(), System.nanoTime()));
                    token = null;
                } catch (Exception | AssertionError e) {
                    // the appliance was killed, is starting again, or answered 4xx: same message, new connection
                    failedAttempts.incrementAndGet();
                    closeQuietly(transport);
                    transport = null;
                    awaitTargetOtherThan(t);
                }
            }
        } catch (Throwable e) {
            crashed.put(name, e);
        } finally {
            closeQuietly(transport);
        }
    }

    /** Waits a little for a new target; a failed target is tried again after that (it may be still starting). */
    private void awaitTargetOtherThan(Target failed) throws InterruptedException {
        synchronized (targetChanged) {
            if (target.get() == failed && !stopping) {
                targetChanged.wait(100);
            }
        }
    }

    private static void closeQuietly(SMTPTransport transport) {
        if (transport == null) {
            return;
        }
        try {
            transport.close();
        } catch (Exception e) {
            // the server is gone; nothing to close politely
        }
    }

    /** Stops sending: a message in flight is finished or abandoned (an abandoned one was never answered 250). */
    @Override
    public void close() throws InterruptedException {
        stopping = true;
        synchronized (targetChanged) {
            targetChanged.notifyAll();
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(90));
        }
    }
}
