package org.backstopmx.queue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.Locale;
import java.util.zip.CRC32;
import org.apache.commons.io.input.BoundedInputStream;
import org.backstopmx.core.DsnRet;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.EnvelopeRecipient;
import org.backstopmx.core.MailExtension;
import org.backstopmx.core.QueueId;
import org.backstopmx.core.SpfResult;

/**
 * The format of a spool file, the record of a message's acceptance (as Postfix's queue file is): the body and the
 * envelope in one file, then an end marker. Only a file with a valid end marker counts as accepted; the database is
 * the schedule and the index, and startup recovery re-inserts from here what the database lacks.
 *
 * <pre>
 *   BACKSTOP SPOOL 2\n                       header, written when the file is created
 *   &lt;body bytes&gt;                             exactly as received, our Received: header first
 *   id 0190F3A2B1C00001\n                    the envelope, one "key value" line each; values percent-encoded
 *   received 2026-12-02T10:00:00.123Z\n      (every byte outside '!'..'~', and '%', as %XX of its UTF-8)
 *   client 192.0.2.1\n                       client, helo, envid, ret: absent when unknown
 *   helo mail.example.net\n
 *   sender alice@example.net\n               empty value: the null sender &lt;&gt;
 *   envid ...\n  ret FULL\n
 *   size 4242\n                              the body's length in bytes
 *   rcpt bob@example.org\n                   one per recipient, in RCPT order, each followed by its DSN
 *   notify SUCCESS,FAILURE\n  orcpt rfc822;bob@example.org\n     parameters when given
 *   BACKSTOP END 0000000000001092 1A2B3C4D\n  end marker (39 bytes): body length (16 hex digits), CRC-32 of the
 *                                            envelope lines (8 hex digits)
 * </pre>
 * The end marker is written last and fsynced with the rest before the database rows are committed, so a file that has
 * it is complete, and a file without it (a session cut during DATA, a crash before the commit) was never acknowledged.
 *
 * <p>Files written before this format (version 1: the body alone) have no header; they are read as a body and
 * carry no envelope, so they rely on their database rows.
 */
final class SpoolFile {
    static final byte[] HEADER = "BACKSTOP SPOOL 2\n".getBytes(StandardCharsets.US_ASCII);
    private static final String END_PREFIX = "BACKSTOP END ";
    static final int END_LENGTH = END_PREFIX.length() + 16 + 1 + 8 + 1;
    /** An envelope of 1000 recipients of 512 characters fits several times; a larger "envelope" is damage. */
    private static final int MAX_ENVELOPE_BYTES = 16 << 20;

    private SpoolFile() {
    }

    /** What a spool file holds, for recovery and rebuild. */
    sealed interface Contents {
    }

    /** A complete file of this format: its envelope (with the body's size) is the message as accepted. */
    record Complete(Envelope envelope) implements Contents {
    }

    /** Header present, end marker missing: the file was still being written, never acknowledged. */
    record Incomplete(String why) implements Contents {
    }

    /** An end marker present but the envelope is damaged, or a file that is not a spool file at all. */
    record Unreadable(String why) implements Contents {
    }

    /** A body written by an earlier release: no envelope in the file. */
    record Legacy(long bodySize) implements Contents {
    }

    /** The envelope lines and the end marker that follow a body of {@code envelope.size()} bytes. */
    static byte[] trailer(Envelope envelope) {
        StringBuilder b = new StringBuilder(256);
        line(b, "id", envelope.id().value());
        line(b, "received", envelope.receivedAt().toString());
        line(b, "client", envelope.clientAddress());
        line(b, "helo", envelope.clientHelo());
        line(b, "sender", envelope.sender());
        line(b, "envid", envelope.envId());
        line(b, "ret", envelope.ret() == null ? null : envelope.ret().name());
        line(b, "size", Long.toString(envelope.size()));
        line(b, "extensions", envelope.extensions().isEmpty() ? null : MailExtension.format(envelope.extensions()));
        line(b, "spf", envelope.spf() == null ? null : envelope.spf().name());
        for (EnvelopeRecipient r : envelope.recipients()) {
            line(b, "rcpt", r.address());
            line(b, "notify", r.dsnNotify());
            line(b, "orcpt", r.orcpt());
        }
        byte[] lines = b.toString().getBytes(StandardCharsets.US_ASCII);
        CRC32 crc = new CRC32();
        crc.update(lines);
        String end = String.format(Locale.ROOT, "%s%016X %08X\n", END_PREFIX, envelope.size(), crc.getValue());
        byte[] endBytes = end.getBytes(StandardCharsets.US_ASCII);
        byte[] all = Arrays.copyOf(lines, lines.length + endBytes.length);
        System.arraycopy(endBytes, 0, all, lines.length, endBytes.length);
        return all;
    }

    /** Reads what {@code file} holds; never changes it. */
    static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (!hasHeader(ch, size)) {
                return size == 0 ? new Incomplete("empty file") : new Legacy(size);
            }
            long bodySize = bodySize(ch, size);
            if (bodySize < 0) {
                return new Incomplete("no end marker");
            }
            long start = HEADER.length + bodySize;
            long length = size - END_LENGTH - start;
            if (length < 0 || length > MAX_ENVELOPE_BYTES) {
                return new Unreadable("end marker gives a body of " + bodySize + " bytes in a file of " + size);
            }
            ByteBuffer lines = ByteBuffer.allocate((int) length);
            readFully(ch, lines, start);
            ByteBuffer end = ByteBuffer.allocate(END_LENGTH);
            readFully(ch, end, size - END_LENGTH);
            String endLine = new String(end.array(), StandardCharsets.US_ASCII);
            CRC32 crc = new CRC32();
            crc.update(lines.array());
            long expected = Long.parseLong(endLine.substring(END_PREFIX.length() + 17, END_LENGTH - 1), 16);
            if (crc.getValue() != expected) {
                return new Unreadable("envelope checksum mismatch");
            }
            try {
                Envelope envelope = parse(new String(lines.array(), StandardCharsets.US_ASCII));
                if (envelope.size() != bodySize) {
                    return new Unreadable("envelope size " + envelope.size() + " but end marker " + bodySize);
                }
                String name = file.getFileName().toString();
                if (!envelope.id().value().equals(name)) {
                    return new Unreadable("envelope of " + envelope.id() + " in the file named " + name);
                }
                return new Complete(envelope);
            } catch (IllegalArgumentException | DateTimeParseException e) {
                return new Unreadable("envelope cannot be parsed: " + e.getMessage());
            }
        }
    }

    /**
     * The body of {@code file}: between the header and the envelope in this format, the whole file in the earlier
     * one. The stream closes the file.
     *
     * @throws IOException when the file is of this format but has no end marker (it is not a stored message)
     */
    static InputStream openBody(Path file) throws IOException {
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            if (!hasHeader(ch, size)) {
                return Channels.newInputStream(ch.position(0));
            }
            long bodySize = bodySize(ch, size);
            if (bodySize < 0 || HEADER.length + bodySize + END_LENGTH > size) {
                throw new IOException(file + " is not a complete spool file");
            }
            return BoundedInputStream.builder().setInputStream(Channels.newInputStream(ch.position(HEADER.length)))
                    .setMaxCount(bodySize).get();
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }

    private static boolean hasHeader(FileChannel ch, long size) throws IOException {
        if (size < HEADER.length) {
            return false;
        }
        ByteBuffer b = ByteBuffer.allocate(HEADER.length);
        readFully(ch, b, 0);
        return Arrays.equals(b.array(), HEADER);
    }

    /** The body size the end marker gives, or -1 when there is no well-formed end marker. */
    private static long bodySize(FileChannel ch, long size) throws IOException {
        if (size < HEADER.length + END_LENGTH) {
            return -1;
        }
        ByteBuffer b = ByteBuffer.allocate(END_LENGTH);
        readFully(ch, b, size - END_LENGTH);
        String end = new String(b.array(), StandardCharsets.US_ASCII);
        if (!end.startsWith(END_PREFIX) || end.charAt(END_PREFIX.length() + 16) != ' '
                || end.charAt(END_LENGTH - 1) != '\n' || !isHex(end, END_PREFIX.length(), 16)
                || !isHex(end, END_PREFIX.length() + 17, 8)) {
            return -1;
        }
        return Long.parseUnsignedLong(end.substring(END_PREFIX.length(), END_PREFIX.length() + 16), 16);
    }

    private static boolean isHex(String s, int from, int length) {
        for (int i = from; i < from + length; i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'A' && c <= 'F')) {
                return false;
            }
        }
        return true;
    }

    private static void readFully(FileChannel ch, ByteBuffer b, long position) throws IOException {
        long p = position;
        while (b.hasRemaining()) {
            int n = ch.read(b, p);
            if (n < 0) {
                throw new IOException("unexpected end of file at " + p);
            }
            p += n;
        }
    }

    private static Envelope parse(String text) {
        QueueId id = null;
        Instant received = null;
        String client = null;
        String helo = null;
        String sender = null;
        String envId = null;
        DsnRet ret = null;
        long size = -1;
        Set<MailExtension> extensions = Set.of();
        SpfResult spf = null; // absent in files written before the SPF check, and for unchecked senders
        List<String[]> recipients = new ArrayList<>(); // address, notify, orcpt
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            int space = line.indexOf(' ');
            if (space < 0) {
                throw new IllegalArgumentException("line without a value: " + line);
            }
            String key = line.substring(0, space);
            String value = decode(line.substring(space + 1));
            switch (key) {
                case "id" -> id = new QueueId(value);
                case "received" -> received = Instant.parse(value);
                case "client" -> client = value;
                case "helo" -> helo = value;
                case "sender" -> sender = value;
                case "envid" -> envId = value;
                case "ret" -> ret = DsnRet.valueOf(value);
                case "size" -> size = Long.parseLong(value);
                case "extensions" -> extensions = MailExtension.parse(value);
                case "spf" -> spf = SpfResult.valueOf(value);
                case "rcpt" -> recipients.add(new String[] {value, null, null});
                case "notify", "orcpt" -> {
                    if (recipients.isEmpty()) {
                        throw new IllegalArgumentException(key + " before any rcpt");
                    }
                    recipients.get(recipients.size() - 1)[key.equals("notify") ? 1 : 2] = value;
                }
                default -> throw new IllegalArgumentException("unknown key " + key);
            }
        }
        if (id == null || received == null || sender == null || size < 0) {
            throw new IllegalArgumentException("id, received, sender or size missing");
        }
        List<EnvelopeRecipient> rcpts = new ArrayList<>(recipients.size());
        for (String[] r : recipients) {
            rcpts.add(new EnvelopeRecipient(r[0], r[1], r[2]));
        }
        return new Envelope(id, received, client, helo, sender, envId, ret, size, rcpts, extensions, spf);
    }

    private static void line(StringBuilder b, String key, String value) {
        if (value == null) {
            return;
        }
        b.append(key).append(' ');
        for (byte x : value.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if (c > 0x20 && c < 0x7f && c != '%') {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        b.append('\n');
    }

    private static String decode(String value) {
        if (value.indexOf('%') < 0) {
            return value;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '%') {
                if (i + 2 >= value.length()) {
                    throw new IllegalArgumentException("truncated %-escape");
                }
                out.write(Integer.parseInt(value.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
