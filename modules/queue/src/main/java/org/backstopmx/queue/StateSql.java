package org.backstopmx.queue;

import java.util.Arrays;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.backstopmx.core.RecipientState;

/** The recipient states as SQL lists, written once, from {@link RecipientState}, for every statement that needs them. */
final class StateSql {
    /** {@code ('QUEUED', 'DEFERRED')}: the states tried when their next attempt time comes. */
    static final String SCHEDULED = list(RecipientState::isScheduled);
    /** {@code ('QUEUED', 'DEFERRED', 'HELD')}: the states with work left. */
    static final String PENDING = list(RecipientState::isPending);

    private StateSql() {
    }

    private static String list(Predicate<RecipientState> which) {
        return Arrays.stream(RecipientState.values()).filter(which).map(s -> "'" + s.name() + "'")
                .collect(Collectors.joining(", ", "(", ")"));
    }
}
