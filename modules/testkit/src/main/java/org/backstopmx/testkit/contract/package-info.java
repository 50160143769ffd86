/**
 * The {@link org.backstopmx.core.MailQueue} contract as one abstract JUnit suite ({@code MailQueueContract}), which
 * each queue implementation's tests extend once, so that the H2 queue and the PostgreSQL queue cannot drift apart.
 *
 * <h2>States it may move</h2>
 * Only those of the queue under test, through its interface.
 *
 * <h2>Failure modes</h2>
 * None of its own: a failing test names the contract clause the implementation broke.
 */
package org.backstopmx.testkit.contract;
