package org.backstopmx.forwarder.delivery;

import java.util.List;
import org.backstopmx.core.Lease;
import org.backstopmx.core.QueueId;

/**
 * One message and its claimed recipients in one domain: what the scheduler hands to a lane and what one
 * {@link DeliveryAttempt} carries over one session. Its leases all end at the same time (one claim).
 */
record Job(String domain, QueueId id, List<Lease> leases) {
}
