package org.backstopmx.forwarder.smtp;

import java.io.IOException;
import java.io.InputStream;

/**
 * Opens the stored message bytes (the spool file) for one delivery. Opened only when the server has answered 354,
 * so a message refused earlier is never read; the relay client closes the stream.
 */
@FunctionalInterface
public interface BodySource {
    InputStream open() throws IOException;
}
