/**
 * The appliance: the command line ({@link org.backstopmx.app.Main}), configuration loading and validation
 * ({@code config}), the wiring of the queue ({@code queue.type}: the H2 queue, or the one several nodes share on
 * PostgreSQL; {@code QueueChoice}) and the SMTP listener ({@link org.backstopmx.app.Appliance}), and the reload of
 * the served domains while it runs ({@link org.backstopmx.app.ConfigReloader}), and the training run
 * ({@code TrainingRun}: {@code train} for the AppCDS archive, {@code serve --warm-up}), which starts a scratch
 * appliance on a temporary queue of its own, never the configured one.
 *
 * <p>Moves no message state itself. Failure modes: a configuration problem stops startup with every bad key named;
 * a queue that cannot be opened (locked by another process, unreadable, its database unreachable) stops startup with
 * the path or URL; after startup the parts report their own failures. A reload whose configuration has a problem
 * changes nothing: the problems are logged with their keys and the running configuration stays.
 */
package org.backstopmx.app;
