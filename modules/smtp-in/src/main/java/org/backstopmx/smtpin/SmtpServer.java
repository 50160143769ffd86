package org.backstopmx.smtpin;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.james.protocols.api.ClientAuth;
import org.apache.james.protocols.netty.Encryption;
import org.apache.james.protocols.smtp.SMTPProtocolHandlerChain;
import org.backstopmx.core.EtrnService;
import org.backstopmx.core.Greylist;
import org.backstopmx.core.MailQueue;
import org.backstopmx.core.PrimaryAddresses;
import org.backstopmx.core.PrimaryCapabilities;
import org.backstopmx.core.RecipientVerifier;
import org.backstopmx.core.Standby;
import org.backstopmx.core.config.DnsConfig;
import org.backstopmx.core.config.DomainConfig;
import org.backstopmx.core.config.ProxyProtocol;
import org.backstopmx.core.config.ScreenConfig;
import org.backstopmx.core.config.SmtpConfig;
import org.backstopmx.core.config.SpfPolicy;
import org.backstopmx.smtpin.spf.SpfCheck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SMTP listener. Owns its Netty pipeline and every thread it starts:
 *
 * <pre>
 * I/O loop:     [ssl, after STARTTLS] connectionLimiter [rateLimit] flowControl idleTimeout recordDeadline [screen]
 * worker group:                       framer coreHandler (James commands and hooks, spool writes, queue commits)
 * </pre>
 *
 * With {@code smtp.proxy-protocol} on, a connection's pipeline is first only {@code proxyDecoder proxyHeader} on the
 * I/O loop; the handlers above are added when its PROXY header is accepted ({@link ProxyHeaderHandler}).
 *
 * The framer and James's handler run on a {@link DefaultEventLoopGroup} of {@code smtp.worker-threads} threads, so a
 * blocking fsync in one session never stalls the greeting or the commands of another (James 3.8.1 ran its hooks on
 * the I/O loop). {@link #close()} shuts down all three groups, so the JVM can exit afterwards.
 *
 * <p>Thread-safe; {@link #start()} once, {@link #close()} once.
 */
public final class SmtpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SmtpServer.class);
    /**
     * How long {@link #close()} lets a message whose DATA is under way finish. Short: container runtimes kill ten
     * seconds after SIGTERM, and the forwarder and the queue close after this.
     */
    public static final Duration DATA_GRACE = Duration.ofSeconds(3);
    /** How long sessions cut after the grace are given to be written their 421 and closed. */
    private static final Duration CUT_WAIT = Duration.ofSeconds(1);
    private static final String PROXY_HEADER = "proxyHeader";

    private final SmtpConfig config;
    private final Clock clock;
    private final String hostname;
    private final Encryption encryption;
    private final RecipientHook recipientHook;
    private final SMTPProtocolHandlerChain chain;
    private final BdatCommand chunkReceiver;
    private final BackstopSmtpProtocol protocol;
    private final ConnectionLimiter limiter;
    private final SmtpMetrics metrics;
    private final ScreenConfig screen;
    /** Null when no DNS list is configured. */
    private final ClientScreen clientScreen;
    /** Null when {@code screen.rate.*} limits nothing; the same instance counts connections and messages. */
    private final ClientRates rates;
    /** Null when connections are not limited by rate. */
    private final RateLimitHandler rateLimit;
    private final InboundFlowControl flowControl = new InboundFlowControl();
    private volatile boolean closing;
    private EventLoopGroup boss;
    private EventLoopGroup io;
    private DefaultEventLoopGroup workers;
    private ChannelGroup channels;
    private Channel listener;

    /**
     * A server without client screening and without the SPF check.
     *
     * @param etrn answers {@code ETRN <domain>}; called on a worker thread, so it may block briefly
     * @param registry receives the SMTP meters ({@link SmtpMetrics}); one server per registry
     * @throws IllegalArgumentException naming the configuration key when the TLS files or recipient files are unusable
     */
    public SmtpServer(String hostname, SmtpConfig config, Map<String, DomainConfig> domains, MailQueue queue,
            EtrnService etrn, Clock clock, MeterRegistry registry) {
        this(hostname, config, domains, queue, etrn, clock, registry, PrimaryCapabilities.UNKNOWN, Standby.NEVER,
                RecipientVerifier.NONE, ScreenConfig.defaults().withSpf(SpfPolicy.OFF, false),
                DnsConfig.defaults());
    }

    /** As the full constructor, without a greylist: {@code screen.greylist} must be off. */
    public SmtpServer(String hostname, SmtpConfig config, Map<String, DomainConfig> domains, MailQueue queue,
            EtrnService etrn, Clock clock, MeterRegistry registry, PrimaryCapabilities primaries, Standby standby,
            RecipientVerifier verifier, ScreenConfig screen, DnsConfig dns) {
        this(hostname, config, domains, queue, etrn, clock, registry, primaries, standby, verifier, screen, dns, null);
    }

    /**
     * @param primaries what the served domains' primaries are known to lack or limit, for the capability rule (a
     *                  message that needs SMTPUTF8 or 8BITMIME, or is over the primary's SIZE, is refused at intake)
     * @param standby  which served domains are left to their primary now (standby mode): their recipients get
     *                 {@code 450 4.7.1}
     * @param verifier asks about the recipients of the domains with {@code recipient-check: callout}
     * @param screen   client screening at connect ({@link ScreenHandler}) and the rate limits ({@link ClientRates},
     *                 counted by {@code clock})
     * @param dns      the resolver and timeout the DNS lists and the SPF check of {@code screen} go through
     * @param greylist where greylisting keeps its triplets; needed with {@code screen.greylist: on}, else may be null
     */
    public SmtpServer(String hostname, SmtpConfig config, Map<String, DomainConfig> domains, MailQueue queue,
            EtrnService etrn, Clock clock, MeterRegistry registry, PrimaryCapabilities primaries, Standby standby,
            RecipientVerifier verifier, ScreenConfig screen, DnsConfig dns, Greylist greylist) {
        this(hostname, config, domains, queue, etrn, clock, registry, primaries, standby, verifier, screen, dns,
                greylist, PrimaryAddresses.NONE);
    }

    /**
     * As above, with the primaries' addresses, which no screen check ever refuses (besides {@code screen.trusted}).
     */
    public SmtpServer(String hostname, SmtpConfig config, Map<String, DomainConfig> domains, MailQueue queue,
            EtrnService etrn, Clock clock, MeterRegistry registry, PrimaryCapabilities primaries, Standby standby,
            RecipientVerifier verifier, ScreenConfig screen, DnsConfig dns, Greylist greylist,
            PrimaryAddresses primaryAddresses) {
        Objects.requireNonNull(verifier, "verifier");
        Objects.requireNonNull(etrn, "etrn");
        Objects.requireNonNull(primaries, "primaries");
        Objects.requireNonNull(standby, "standby");
        Objects.requireNonNull(registry, "registry");
        this.config = config;
        this.hostname = hostname;
        this.clock = clock;
        this.encryption = config.tls() == null ? null
                : Encryption.createStartTls(TlsContexts.load(config.tls()), null, TlsContexts.PROTOCOLS, ClientAuth.NONE);
        RecipientDirectory directory = RecipientDirectory.load(domains);
        ClientTrust trust = new ClientTrust(screen, Objects.requireNonNull(primaryAddresses, "primaryAddresses"));
        this.metrics = new SmtpMetrics(registry, directory.domains());
        this.recipientHook = new RecipientHook(policy(directory), config.maxRecipients(),
                config.recipientOvershootLimit(), primaries, config.maxMessageSize(), standby, verifier,
                Greylisting.create(screen, trust, greylist, clock, metrics));
        this.rates = ClientRates.create(screen, trust, clock, metrics);
        this.rateLimit = rates != null && rates.limitsConnections() ? new RateLimitHandler(rates, hostname, metrics)
                : null;
        SpfHook spf = screen.spf() == SpfPolicy.OFF ? null
                : new SpfHook(new SpfCheck(dns), screen.spf(), trust, metrics);
        try {
            this.chain = SmtpChainFactory.create(config, hostname, recipientHook, queue, etrn, clock, metrics,
                    primaries, rates, spf);
        } catch (Exception e) {
            throw new IllegalStateException("cannot assemble the SMTP handler chain", e);
        }
        this.chunkReceiver = chain.getHandlers(BdatCommand.class).get(0);
        this.protocol = new BackstopSmtpProtocol(chain, new BackstopSmtpConfiguration(hostname));
        this.screen = screen;
        this.clientScreen = ClientScreen.create(screen, trust, dns, metrics);
        this.limiter = new ConnectionLimiter(config.maxConnections(), config.maxConnectionsPerIp(), hostname, metrics);
        metrics.activeConnections(limiter::active);
    }

    /** Binds the listener. */
    public synchronized void start() throws InterruptedException {
        boss = new NioEventLoopGroup(1, new DefaultThreadFactory("smtp-accept"));
        io = new NioEventLoopGroup(0, new DefaultThreadFactory("smtp-io"));
        workers = new DefaultEventLoopGroup(config.workerThreads(), new DefaultThreadFactory("smtp-worker"));
        channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
        int maxFrame = Math.max(config.maxLineLength(), config.maxCommandLineLength());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(boss, io)
                .channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (closing) {
                            // accepted in the instant before the listener closed: no session begins
                            ch.pipeline().addLast(new ShutdownNotice.Refuse(hostname));
                            return;
                        }
                        ch.attr(ConnectionState.KEY).set(new ConnectionState());
                        channels.add(ch);
                        if (config.proxyProtocol() == ProxyProtocol.OFF) {
                            addSessionHandlers(ch, maxFrame);
                            return;
                        }
                        ProxyHeaderHandler proxy = new ProxyHeaderHandler(config.proxyProtocol(),
                                config.proxyTrusted(), ProxyHeaderHandler.wait(config.idleTimeout()), hostname,
                                metrics, c -> addSessionHandlers(c, maxFrame));
                        ch.pipeline()
                                .addLast(ProxyHeaderHandler.DECODER, proxy.decoder())
                                .addLast(PROXY_HEADER, proxy);
                    }
                });
        InetSocketAddress address = config.listen().toSocketAddress();
        try {
            listener = bootstrap.bind(address).sync().channel();
        } catch (Exception e) {
            close();
            throw new IllegalStateException("smtp.listen: cannot listen on " + config.listen() + ": " + e.getMessage(), e);
        }
        LOG.info("SMTP listening on {} as {}{}{}", localAddress(), hostname, encryption == null ? "" : " with STARTTLS",
                config.proxyProtocol() == ProxyProtocol.OFF ? ""
                        : ", PROXY protocol " + config.proxyProtocol().configName() + " from " + config.proxyTrusted());
    }

    /** The handlers of an SMTP session, at the end of {@code ch}'s pipeline: at once, or after its PROXY header. */
    private void addSessionHandlers(Channel ch, int maxFrame) {
        ch.pipeline().addLast("connectionLimiter", limiter);
        if (rateLimit != null) {
            ch.pipeline().addLast("rateLimit", rateLimit);
        }
        ch.pipeline()
                .addLast("flowControl", flowControl)
                .addLast("idleTimeout", new IdleTimeoutHandler(config.idleTimeout(), hostname, metrics))
                .addLast("recordDeadline", new RecordDeadline(config.recordDeadline(), config.stressRecordDeadline(),
                        this::underStress, clock, RecordDeadline.TICK, hostname, metrics));
        if (clientScreen != null || !screen.greetDelay().isZero()) {
            ch.pipeline().addLast("screen", new ScreenHandler(clientScreen, screen.greetDelay(), hostname, metrics,
                    () -> closing));
        }
        ch.pipeline()
                .addLast(workers, "framer", new SmtpLineDecoder(maxFrame))
                .addLast(workers, "coreHandler", new SmtpChannelHandler(protocol, encryption,
                        config.maxCommandLineLength(), config.maxErrors(), hostname, metrics, chunkReceiver));
    }

    /** The bound address (useful with port 0). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Whether four fifths of {@code smtp.max-connections} are open: slow clients then get the short deadline. */
    private boolean underStress() {
        return limiter.active() * 5L >= config.maxConnections() * 4L;
    }

    /** Rate-limit windows kept now (0 when nothing is limited by rate), for the tests of its bound. */
    int rateWindows() {
        return rates == null ? 0 : rates.tracked();
    }

    /** Connections open now. */
    public int activeConnections() {
        return limiter.active();
    }

    /**
     * Replaces the served domains and recipient lists; sessions in progress are not interrupted, and their next RCPT
     * is checked against the new lists. The recipient files are read before anything is replaced.
     *
     * @return the directory now in force
     * @throws IllegalArgumentException naming the configuration key when a recipient file is unusable; nothing changed
     */
    public RecipientDirectory reloadDomains(Map<String, DomainConfig> domains) {
        RecipientDirectory directory = RecipientDirectory.load(domains);
        metrics.servedDomains(directory.domains());
        recipientHook.replacePolicy(policy(directory));
        return directory;
    }

    private RelayPolicy policy(RecipientDirectory directory) {
        return new RelayPolicy(directory, Postmaster.resolve(config.postmaster(), hostname, directory.domains()));
    }

    /** Closes with the default {@link #DATA_GRACE}. */
    @Override
    public void close() {
        close(DATA_GRACE);
    }

    /**
     * Stops accepting (the listener is unbound first, so new connections are refused by the kernel), tells every open
     * session {@code 421 4.3.2} and closes it, then stops every thread this server started. A session in the middle of
     * DATA gets up to {@code dataGrace} to finish: its message is then committed and acknowledged with 250 before the
     * 421; if it does not finish, the message is discarded (its client was never told 250) and it gets the 421.
     */
    public synchronized void close(Duration dataGrace) {
        closing = true;
        if (listener != null) {
            InetSocketAddress address = localAddress();
            listener.close().awaitUninterruptibly();
            LOG.info("SMTP: stopped accepting connections on {}", address);
        }
        if (channels != null) {
            int open = channels.size();
            onEachWorker(ch -> ShutdownNotice.request(ch, hostname, false));
            boolean allClosed = channels.newCloseFuture().awaitUninterruptibly(dataGrace.toMillis());
            int cut = 0;
            if (!allClosed) {
                cut = channels.size();
                onEachWorker(ch -> ShutdownNotice.request(ch, hostname, true));
                channels.newCloseFuture().awaitUninterruptibly(CUT_WAIT.toMillis());
            }
            LOG.info("SMTP: {} open sessions told 421 and closed{}", open,
                    cut == 0 ? "" : ", " + cut + " of them cut after the " + dataGrace.toMillis() + " ms grace");
        }
        for (EventLoopGroup g : new EventLoopGroup[] {boss, io, workers}) {
            if (g != null) {
                g.shutdownGracefully(0, 5, TimeUnit.SECONDS);
            }
        }
        for (EventLoopGroup g : new EventLoopGroup[] {boss, io, workers}) {
            if (g != null) {
                g.terminationFuture().awaitUninterruptibly(10, TimeUnit.SECONDS);
            }
        }
        boss = null;
        io = null;
        workers = null;
        listener = null;
    }

    /** Runs {@code task} for each open channel on the worker thread that runs its commands. */
    private void onEachWorker(java.util.function.Consumer<Channel> task) {
        for (Channel ch : channels) {
            ChannelHandlerContext core = ch.pipeline().context("coreHandler");
            if (core == null) {
                if (ch.pipeline().get(PROXY_HEADER) != null) {
                    ch.close(); // still waiting for its PROXY header: no session to end
                }
                continue; // closed meanwhile, or refused at connect
            }
            try {
                core.executor().execute(() -> task.accept(ch));
            } catch (RejectedExecutionException e) {
                ch.close();
            }
        }
    }
}
