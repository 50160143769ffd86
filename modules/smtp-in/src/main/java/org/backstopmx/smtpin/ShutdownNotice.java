package org.backstopmx.smtpin;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a session ends when the server shuts down: {@code 421 4.3.2 <hostname> Service shutting down} (RFC 5321 §3.8:
 * a server that must close may send 421 at any time, and the client then retries elsewhere or later), then close.
 *
 * <p>A session that is receiving DATA (or BDAT chunks) is not cut at once: its end of data is judged and committed as usual, so the
 * client gets its 250 for a message that is on disk, and only then the 421. If the end of data does not come within
 * the server's grace, the message is discarded (never acknowledged, so never lost: its sender still has it) and the
 * session gets the 421. Everything here runs on the channel's worker thread, the one that runs its commands, so a
 * notice can never overtake a reply.
 */
final class ShutdownNotice {
    private static final Logger LOG = LoggerFactory.getLogger(ShutdownNotice.class);

    private ShutdownNotice() {
    }

    /**
     * Marks the session as ending and, unless DATA is under way, says 421 and closes. On the channel's worker thread.
     *
     * @param force also end a session in the middle of DATA, discarding its message (the grace is over)
     */
    static void request(Channel ch, String hostname, boolean force) {
        ConnectionState state = ConnectionState.of(ch);
        if (state == null || state.closing || !ch.isActive()) {
            return;
        }
        state.shutdown = true;
        if (state.receiving()) {
            if (!force) {
                return; // the end of data (or BDAT LAST) is answered first, then afterCommand says 421
            }
            LOG.info("{}: message from {} not finished before shutdown, discarded", state.abandonMessage(),
                    ClientAddress.of(ch));
        }
        say(ch, state, hostname);
    }

    /** After a command or line was handled: a session marked for shutdown ends once its DATA is answered. */
    static void afterCommand(Channel ch, ConnectionState state, String hostname) {
        if (state.shutdown && !state.receiving() && !state.closing) {
            say(ch, state, hostname);
        }
    }

    private static void say(Channel ch, ConnectionState state, String hostname) {
        state.closing = true;
        Goodbye.say(ch, Replies.SHUTTING_DOWN, hostname);
    }

    /**
     * The whole pipeline of a connection accepted in the instant before the listener closed: 421 instead of a
     * greeting, input ignored.
     */
    static final class Refuse extends Goodbye.IgnoreInput {
        private final String hostname;

        Refuse(String hostname) {
            this.hostname = hostname;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Goodbye.say(ctx, Replies.SHUTTING_DOWN, hostname);
        }
    }
}
