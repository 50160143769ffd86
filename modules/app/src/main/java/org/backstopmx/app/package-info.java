/**
 * The appliance: the command line ({@link org.backstopmx.app.Main}), configuration loading and validation
 * ({@code config}), and the wiring of the queue and the SMTP listener ({@link org.backstopmx.app.Appliance}).
 *
 * <p>Moves no message state itself. Failure modes: a configuration problem stops startup with every bad key named;
 * a queue that cannot be opened (locked by another process, unreadable) stops startup with the path; after startup
 * the parts report their own failures.
 */
package org.backstopmx.app;
