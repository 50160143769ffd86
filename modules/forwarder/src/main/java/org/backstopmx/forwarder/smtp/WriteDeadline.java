package org.backstopmx.forwarder.smtp;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A deadline for each write to the primary. A socket read has {@code SO_TIMEOUT}; a write has nothing, and a server
 * that stops reading in the middle of DATA (its window full, the connection still open) would block the writing
 * thread for as long as TCP keeps the connection, holding its recipients' leases all the while. RFC 5321 §4.5.3.2.5
 * gives each send of message data a timeout: when one write takes longer than the socket's current read timeout
 * (the data-block timeout while the body goes out), the socket is closed, which fails the write, and the write
 * reports {@code write timed out}.
 */
final class WriteDeadline {
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private WriteDeadline() {
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread thread = new Thread(r, "backstop-write-deadline");
            thread.setDaemon(true);
            return thread;
        });
        t.setRemoveOnCancelPolicy(true); // most deadlines are cancelled: do not keep them queued
        return t;
    }

    /** {@code out} with a deadline on each write and flush: the socket's {@code SO_TIMEOUT} when the write starts. */
    static OutputStream guard(OutputStream out, Socket socket) {
        return new Guarded(out, socket);
    }

    private static final class Guarded extends FilterOutputStream {
        private final Socket socket;
        private volatile boolean expired;

        Guarded(OutputStream out, Socket socket) {
            super(out);
            this.socket = socket;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            withDeadline(() -> out.write(b, off, len));
        }

        @Override
        public void flush() throws IOException {
            withDeadline(out::flush);
        }

        private interface Io {
            void run() throws IOException;
        }

        private void withDeadline(Io io) throws IOException {
            ScheduledFuture<?> deadline = arm();
            try {
                io.run();
            } catch (IOException e) {
                throw expired ? timedOut(e) : e;
            } finally {
                disarm(deadline);
            }
        }

        /** The stream is the connection's: closing it is the client's business, not this wrapper's. */
        @Override
        public void close() throws IOException {
            flush();
        }

        private ScheduledFuture<?> arm() throws IOException {
            int millis = socket.getSoTimeout();
            if (millis <= 0) {
                return null;
            }
            return TIMER.schedule(() -> {
                expired = true;
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing is all that is left to do
                }
            }, millis, TimeUnit.MILLISECONDS);
        }

        private static void disarm(ScheduledFuture<?> deadline) {
            if (deadline != null) {
                deadline.cancel(false);
            }
        }

        private static SocketTimeoutException timedOut(IOException cause) {
            SocketTimeoutException e = new SocketTimeoutException("write timed out");
            e.initCause(cause);
            return e;
        }
    }
}
