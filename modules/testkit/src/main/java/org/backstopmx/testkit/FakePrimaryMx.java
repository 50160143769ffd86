package org.backstopmx.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.backstopmx.core.SmtpStage;

/**
 * A scripted primary MX on a real socket (plain {@code java.net}, one thread per connection) for the forwarder's
 * tests. It binds 127.0.0.1 on a free port, speaks enough ESMTP to take mail, answers each command as the test told
 * it (250 / 354 / 221 by default), and records what it received: every command line, how many commands arrived in
 * each read (to tell pipelining from lock-step), and every completed transaction with its DATA bytes both as they
 * were on the wire (dot-stuffed) and un-stuffed.
 *
 * <p>It counts the delivering sessions open at once per client (by the name the client gave in EHLO/HELO; a session
 * counts from its first MAIL to its end, so a probe's connect, EHLO, QUIT does not) and keeps the peak of each
 * ({@link #peakDeliveringSessions()}): what a per-destination concurrency limit is checked against.
 *
 * <p>It can be stopped and started again on the same port, drop the connection in the middle of DATA, and stall
 * (never answer) at a given stage. A reply starting with {@code 421} is sent and the connection closed.
 * STARTTLS is offered and done only after {@link #offerStartTls}; otherwise the command is answered 454.
 *
 * <p>Configure it before the client connects; the settings are read per command, so changing them between
 * connections is fine too.
 *
 * <p>Over 400 lines on purpose: one scripted SMTP server (greeting, EHLO, STARTTLS, MAIL/RCPT/DATA with
 * PIPELINING, stalls and drops at any stage) whose options the tests combine freely; split, each piece would need
 * the session state of all the others.
 */
public final class FakePrimaryMx implements AutoCloseable {

    /**
     * One transaction that reached the end of DATA; {@code client} is the name the client gave in EHLO or HELO,
     * {@code at} when the final dot arrived (the system clock: for ordering against other processes' times).
     */
    public record Transaction(
            String mailFrom, List<String> rcptTo, byte[] wireData, byte[] data, String dotReply, boolean tls,
            String client, Instant at) {
    }

    private final int port;
    private volatile ServerSocket server;
    /** The thread accepting on {@link #server}. */
    private volatile Thread acceptor;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final List<String> commands = new CopyOnWriteArrayList<>();
    private final List<Integer> readSequenceOfCommand = new CopyOnWriteArrayList<>();
    private final List<Transaction> transactions = new CopyOnWriteArrayList<>();
    private final Map<String, String> recipientReplies = new ConcurrentHashMap<>();
    private volatile List<String> capabilities = List.of("PIPELINING", "8BITMIME", "SIZE 10485760", "DSN",
            "ENHANCEDSTATUSCODES");
    private volatile String greeting = "220 fake.primary ESMTP";
    private volatile boolean ehloRefused;
    private volatile BiFunction<String, String, String> script = (verb, arg) -> null;
    private volatile SmtpStage stallAt;
    private volatile boolean dropDuringData;
    private volatile boolean stopReadingDuringData;
    private volatile int connections;
    private volatile SSLContext tlsContext;
    /** Delivering sessions open now and at most, by client name (guarded by {@code this}). */
    private final Map<String, Integer> deliveringNow = new HashMap<>();
    private final Map<String, Integer> peakDelivering = new HashMap<>();

    private FakePrimaryMx(ServerSocket server) {
        this.server = server;
        this.port = server.getLocalPort();
        accept(server);
    }

    /** Binds 127.0.0.1 on a free port and starts accepting. */
    public static FakePrimaryMx start() throws IOException {
        return new FakePrimaryMx(bind(0));
    }

    private static ServerSocket bind(int port) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        return s;
    }

    // ---- script ----

    /** The EHLO keywords after the first line, e.g. {@code "PIPELINING", "SIZE 1000", "DSN"}. */
    public FakePrimaryMx capabilities(String... keywords) {
        this.capabilities = List.of(keywords);
        return this;
    }

    /** The greeting, e.g. {@code "421 4.3.2 busy"}. */
    public FakePrimaryMx greeting(String reply) {
        this.greeting = reply;
        return this;
    }

    /**
     * Offer STARTTLS (RFC 3207) with this server context, after the other capabilities; after the handshake the
     * EHLO reply no longer lists it.
     */
    public FakePrimaryMx offerStartTls(SSLContext serverContext) {
        this.tlsContext = serverContext;
        return this;
    }

    /** Answer EHLO with 502 so the client must fall back to HELO. */
    public FakePrimaryMx refuseEhlo() {
        this.ehloRefused = true;
        return this;
    }

    /**
     * How to answer: called with the upper-case verb ({@code MAIL}, {@code RCPT}, {@code DATA}, {@code RSET}, ... and
     * {@code DOT} for the end of DATA) and the rest of the line; returns the reply line(s) ({@code \n} between
     * lines of a multi-line reply) or null for the default.
     */
    public FakePrimaryMx answer(BiFunction<String, String, String> script) {
        this.script = script;
        return this;
    }

    /** Answer RCPT for this address (as in {@code <address>}) with this reply. */
    public FakePrimaryMx recipientReply(String address, String reply) {
        recipientReplies.put(address.toLowerCase(Locale.ROOT), reply);
        return this;
    }

    /** Never answer at this stage (GREETING, EHLO, MAIL, RCPT, DATA or DOT); null to answer again. */
    public FakePrimaryMx stallAt(SmtpStage stage) {
        this.stallAt = stage;
        return this;
    }

    /** Close the connection after the first chunk of message data has arrived. */
    public FakePrimaryMx dropDuringData(boolean drop) {
        this.dropDuringData = drop;
        return this;
    }

    /**
     * After the 354, stop reading (keep the connection open, answer nothing): the client's writes block once the
     * socket buffers are full, as with a server that hangs in the middle of a large message.
     */
    public FakePrimaryMx stopReadingDuringData(boolean stop) {
        this.stopReadingDuringData = stop;
        return this;
    }

    // ---- life-cycle ----

    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    public int port() {
        return port;
    }

    /**
     * Closes the listening socket and every open connection; {@link #restart()} binds the same port again. Returns
     * once the port refuses connections: the JDK defers closing a socket that a thread is blocked accepting on until
     * that thread has left, so a connection made just after {@code close()} could still be accepted.
     */
    public synchronized void stop() throws IOException {
        server.close();
        Thread t = acceptor;
        if (t != null) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Socket s : open) {
            s.close();
        }
    }

    public synchronized void restart() throws IOException {
        if (!server.isClosed()) {
            return;
        }
        server = bind(port);
        accept(server);
    }

    @Override
    public void close() throws IOException {
        stop();
    }

    // ---- what was received ----

    /** Every command line in arrival order (DATA content not included; the end of DATA is not a command). */
    public List<String> commands() {
        return List.copyOf(commands);
    }

    /** The verbs of {@link #commands()}. */
    public List<String> verbs() {
        List<String> verbs = new ArrayList<>();
        for (String c : commands) {
            verbs.add(verbOf(c));
        }
        return verbs;
    }

    /** How many commands arrived in each read from the socket, in order. */
    public List<Integer> commandsPerRead() {
        List<Integer> counts = new ArrayList<>();
        int last = Integer.MIN_VALUE;
        for (int seq : readSequenceOfCommand) {
            if (seq == last) {
                counts.set(counts.size() - 1, counts.get(counts.size() - 1) + 1);
            } else {
                counts.add(1);
                last = seq;
            }
        }
        return counts;
    }

    public List<Transaction> transactions() {
        return List.copyOf(transactions);
    }

    /** Connections accepted so far. */
    public int connections() {
        return connections;
    }

    /**
     * The most sessions that were delivering at once, by the name each client gave in EHLO or HELO ({@code ""}
     * without one): a session delivers from its first MAIL until it ends.
     */
    public synchronized Map<String, Integer> peakDeliveringSessions() {
        return Map.copyOf(peakDelivering);
    }

    private synchronized void deliveringStarted(String client) {
        int now = deliveringNow.merge(client, 1, Integer::sum);
        peakDelivering.merge(client, now, Math::max);
    }

    private synchronized void deliveringEnded(String client) {
        deliveringNow.merge(client, -1, Integer::sum);
    }

    // ---- the server ----

    private void accept(ServerSocket s) {
        Thread t = new Thread(() -> {
            while (!s.isClosed()) {
                try {
                    Socket c = s.accept();
                    connections++;
                    open.add(c);
                    Thread session = new Thread(() -> serve(c), "fake-mx-session-" + port);
                    session.setDaemon(true);
                    session.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "fake-mx-accept-" + port);
        t.setDaemon(true);
        acceptor = t;
        t.start();
    }

    private void serve(Socket socket) {
        Session session = null;
        try (socket) {
            session = new Session(socket);
            session.run();
        } catch (IOException e) {
            // the client went away or the test stopped us
        } finally {
            open.remove(socket);
            if (session != null && session.delivering) {
                deliveringEnded(session.client);
            }
            if (session != null && session.socket != socket) {
                open.remove(session.socket);
                try {
                    session.socket.close();
                } catch (IOException e) {
                    // closing anyway
                }
            }
        }
    }

    private static String verbOf(String line) {
        int sp = line.indexOf(' ');
        String verb = sp < 0 ? line : line.substring(0, sp);
        return verb.toUpperCase(Locale.ROOT);
    }

    /** A line read from the socket with the number of the read it completed in. */
    private record Line(byte[] bytes, int readSeq) {
        String text() {
            int len = bytes.length;
            while (len > 0 && (bytes[len - 1] == '\n' || bytes[len - 1] == '\r')) {
                len--;
            }
            return new String(bytes, 0, len, StandardCharsets.UTF_8);
        }
    }

    private final class Session {
        private Socket socket;
        private InputStream in;
        private OutputStream out;
        private boolean tls;
        private final Deque<Line> lines = new ArrayDeque<>();
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
        private final byte[] buf = new byte[65536];
        private int readSeq;
        private String mailFrom;
        private final List<String> rcpts = new ArrayList<>();
        /** The name from EHLO or HELO. */
        private String client = "";
        /** Whether a MAIL came: the session counts as delivering until it ends. */
        private boolean delivering;

        Session(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
        }

        void run() throws IOException {
            if (stallAt == SmtpStage.GREETING) {
                drain();
                return;
            }
            if (!reply(greeting)) {
                return;
            }
            while (true) {
                Line line = nextLine();
                if (line == null) {
                    return;
                }
                String text = line.text();
                commands.add(text);
                readSequenceOfCommand.add(line.readSeq());
                String verb = verbOf(text);
                String arg = text.length() > verb.length() ? text.substring(verb.length()).trim() : "";
                if (!handle(verb, arg)) {
                    return;
                }
            }
        }

        /** Answers one command; false when the connection is to end. */
        private boolean handle(String verb, String arg) throws IOException {
            SmtpStage stage = switch (verb) {
                case "EHLO", "HELO" -> SmtpStage.EHLO;
                case "MAIL" -> SmtpStage.MAIL;
                case "RCPT" -> SmtpStage.RCPT;
                case "DATA" -> SmtpStage.DATA;
                default -> null;
            };
            if (stage != null && stage == stallAt) {
                drain();
                return false;
            }
            if ((verb.equals("EHLO") || verb.equals("HELO")) && !delivering) {
                client = arg;
            }
            if (verb.equals("MAIL") && !delivering) {
                delivering = true;
                deliveringStarted(client);
            }
            String scripted = script.apply(verb, arg);
            switch (verb) {
                case "EHLO": {
                    if (scripted == null && ehloRefused) {
                        scripted = "502 5.5.1 EHLO not implemented";
                    }
                    if (scripted == null) {
                        List<String> caps = new ArrayList<>(capabilities);
                        if (tlsContext != null && !tls) {
                            caps.add("STARTTLS");
                        }
                        StringBuilder b = new StringBuilder("250");
                        b.append(caps.isEmpty() ? " " : "-").append("fake.primary");
                        for (int i = 0; i < caps.size(); i++) {
                            b.append('\n').append(i == caps.size() - 1 ? "250 " : "250-").append(caps.get(i));
                        }
                        scripted = b.toString();
                    }
                    resetTransaction();
                    return reply(scripted);
                }
                case "HELO":
                    resetTransaction();
                    return reply(scripted != null ? scripted : "250 fake.primary");
                case "MAIL": {
                    String r = scripted != null ? scripted : "250 2.1.0 Ok";
                    if (r.startsWith("2")) {
                        mailFrom = arg;
                        rcpts.clear();
                    }
                    return reply(r);
                }
                case "RCPT": {
                    String r = scripted;
                    if (r == null) {
                        r = recipientReplies.get(addressOf(arg));
                    }
                    if (r == null) {
                        r = "250 2.1.5 Ok";
                    }
                    if (r.startsWith("2")) {
                        rcpts.add(arg);
                    }
                    return reply(r);
                }
                case "DATA": {
                    String r = scripted;
                    if (r == null) {
                        r = mailFrom == null || rcpts.isEmpty() ? "554 5.5.1 No valid recipients"
                                : "354 End data with <CR><LF>.<CR><LF>";
                    }
                    if (!reply(r)) {
                        return false;
                    }
                    return !r.startsWith("354") || receiveData();
                }
                case "RSET":
                    resetTransaction();
                    return reply(scripted != null ? scripted : "250 2.0.0 Ok");
                case "QUIT":
                    reply(scripted != null ? scripted : "221 2.0.0 Bye");
                    return false;
                case "STARTTLS":
                    if (scripted != null || tlsContext == null || tls) {
                        return reply(scripted != null ? scripted : "454 4.7.0 TLS not available");
                    }
                    if (!reply("220 2.0.0 Ready to start TLS")) {
                        return false;
                    }
                    startTls();
                    return true;
                default:
                    return reply(scripted != null ? scripted : "250 2.0.0 Ok");
            }
        }

        private boolean receiveData() throws IOException {
            if (stopReadingDuringData) {
                socket.setReceiveBufferSize(4096); // the window fills sooner
                while (!socket.isClosed()) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }
                return false;
            }
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            ByteArrayOutputStream data = new ByteArrayOutputStream();
            while (true) {
                if (dropDuringData && wire.size() > 0) {
                    socket.close();
                    return false;
                }
                Line line = nextLine();
                if (line == null) {
                    return false;
                }
                byte[] b = line.bytes();
                if (b.length == 3 && b[0] == '.' && b[1] == '\r' && b[2] == '\n') {
                    break;
                }
                wire.write(b);
                if (b.length > 0 && b[0] == '.') {
                    data.write(b, 1, b.length - 1);
                } else {
                    data.write(b);
                }
            }
            if (stallAt == SmtpStage.DOT) {
                drain();
                return false;
            }
            String r = script.apply("DOT", "");
            if (r == null) {
                r = "250 2.0.0 Ok: queued";
            }
            transactions.add(new Transaction(mailFrom, List.copyOf(rcpts), wire.toByteArray(), data.toByteArray(), r,
                    tls, client, Instant.now()));
            resetTransaction();
            return reply(r);
        }

        /** RFC 3207 §4.2: the handshake, then forget everything from before it. */
        private void startTls() throws IOException {
            SSLSocket ssl = (SSLSocket) tlsContext.getSocketFactory()
                    .createSocket(socket, socket.getInetAddress().getHostAddress(), socket.getPort(), true);
            ssl.setUseClientMode(false);
            ssl.startHandshake();
            open.add(ssl);
            socket = ssl;
            in = ssl.getInputStream();
            out = ssl.getOutputStream();
            lines.clear();
            partial.reset();
            tls = true;
            resetTransaction();
        }

        private void resetTransaction() {
            mailFrom = null;
            rcpts.clear();
        }

        /** Sends a reply (lines separated by \n); false when it was a 421 and the connection is closed. */
        private boolean reply(String reply) throws IOException {
            out.write((reply.replace("\n", "\r\n") + "\r\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            if (reply.startsWith("421")) {
                socket.close();
                return false;
            }
            return true;
        }

        /** Reads and ignores everything until the client closes: a stalled server. */
        private void drain() throws IOException {
            while (in.read(buf) >= 0) {
                // never answer
            }
        }

        private Line nextLine() throws IOException {
            while (lines.isEmpty()) {
                int n = in.read(buf);
                if (n < 0) {
                    return null;
                }
                readSeq++;
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        partial.write(buf, start, i + 1 - start);
                        lines.add(new Line(partial.toByteArray(), readSeq));
                        partial.reset();
                        start = i + 1;
                    }
                }
                partial.write(buf, start, n - start);
            }
            return lines.poll();
        }
    }

    /** {@code TO:<a@b> NOTIFY=...} → {@code a@b} in lower case. */
    private static String addressOf(String arg) {
        int lt = arg.indexOf('<');
        int gt = arg.indexOf('>', lt + 1);
        if (lt < 0 || gt < 0) {
            return arg.toLowerCase(Locale.ROOT);
        }
        return arg.substring(lt + 1, gt).toLowerCase(Locale.ROOT);
    }
}
