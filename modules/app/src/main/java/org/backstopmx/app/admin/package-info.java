/**
 * The queue commands ({@code backstop queue ...}) and the admin HTTP API behind them: {@code QueueAdmin} is the one
 * interface, with the running appliance's implementation ({@code LiveQueueAdmin}, served by {@code AdminServer}), the
 * CLI's HTTP client ({@code AdminClient}) and the stopped appliance's queue files ({@code OfflineQueueAdmin}, in the
 * app package). {@code AdminToken} owns the bearer token; {@code QueueViews} the records both sides print. On the
 * queue that several nodes share ({@code queue.type: postgresql}) any node's API sees and changes every node's mail;
 * there are no queue files, so only a running node's API serves the commands.
 *
 * <h2>States it may move</h2>
 * None by itself: reads go to the queue, and every change (hold, release, bounce, flush) goes through the forwarder,
 * the owner of a recipient's life once it is queued; delete goes to the queue, which removes the message and its
 * history.
 *
 * <h2>Failure modes</h2>
 * A missing or wrong token is refused (401) and logged without the token; an unknown message is 404, a bad request
 * 400; a queue that cannot do it answers 503 with the reason, and the command may simply be run again (a bounce that
 * could not record every recipient says so). Nothing here retries by itself.
 */
package org.backstopmx.app.admin;
