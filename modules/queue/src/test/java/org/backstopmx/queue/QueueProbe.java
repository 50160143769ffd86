package org.backstopmx.queue;

import java.nio.file.Path;
import java.time.Clock;
import org.backstopmx.core.QueueException;

/**
 * Child JVM of {@link QueueReopenTest}: tries to open a queue as a second appliance ({@code serve}) or as the offline
 * lister ({@code list}) and prints {@code OPENED} or {@code FAILED <kind> <message>}.
 */
public final class QueueProbe {
    private QueueProbe() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[1]);
        try {
            if (args[0].equals("serve")) {
                H2MailQueue.open(TestMessages.config(dir), TestMessages.MAX_MESSAGE_SIZE, Clock.systemUTC()).close();
            } else {
                try (QueueReader reader = QueueReader.open(dir)) {
                    System.out.println("LISTED " + reader.list(1000).size());
                }
            }
            System.out.println("OPENED");
        } catch (QueueException e) {
            System.out.println("FAILED " + e.kind() + " " + e.getMessage());
        }
        System.out.flush();
    }
}
