package org.backstopmx.forwarder.delivery;

import java.util.Optional;
import org.backstopmx.core.Envelope;
import org.backstopmx.core.Metrics.BounceSuppression;
import org.backstopmx.core.SpfResult;

/**
 * Whether a DSN may go to a message's sender, from what SPF said of the sender at intake: a backup MX that bounces to
 * forged senders sends spam to innocent third parties (backscatter, RFC 7208 §10.1, RFC 3834 §2). A sender that
 * failed SPF gets none; with {@code screen.bounce-only-spf-pass}, neither does one that did not pass. A message whose
 * sender was not checked (SPF off, a trusted client, received before the check) is bounced as always: nothing says
 * its sender is forged. Immutable.
 */
final class BackscatterGuard {
    /** Bounces to every sender that did not fail SPF. */
    static final BackscatterGuard DEFAULT = new BackscatterGuard(false);

    private final boolean onlyPass;

    BackscatterGuard(boolean bounceOnlySpfPass) {
        this.onlyPass = bounceOnlySpfPass;
    }

    /** Why no DSN goes to {@code original}'s sender, or empty when one may. */
    Optional<BounceSuppression> suppression(Envelope original) {
        SpfResult spf = original.spf();
        if (spf == SpfResult.FAIL) {
            return Optional.of(BounceSuppression.SPF_FAIL);
        }
        if (onlyPass && spf != null && spf != SpfResult.PASS) {
            return Optional.of(BounceSuppression.SPF_NOT_PASS);
        }
        return Optional.empty();
    }
}
