/**
 * Test fixtures shared by the modules' tests (test scope only, never in the appliance): real peers on loopback
 * ({@code FakePrimaryMx}, a scripted primary MX; {@code Dnsmasq}, a real DNS server; {@code Nsd}, a real
 * authoritative one for zones signed by {@code SignedZone}; {@code PrometheusServer};
 * {@code PostfixSender}, a real sending MTA; {@code PostgresServer}, a real PostgreSQL in a temporary cluster), a TCP
 * proxy that can drop a link as a network partition does ({@code TcpProxy}), a raw
 * SMTP client for transcript tests ({@code SmtpTranscript}) and one
 * that submits whole messages ({@code SmtpSubmission}), a clock tests move by hand ({@code MutableClock}),
 * queues for one side at a time ({@code RecordingMailQueue}) or with faults put in the way of the real one
 * ({@code FaultyMailQueue}), a small file system to fill ({@code SmallFileSystem}) and a certificate authority
 * made with keytool ({@code TestCa}).
 *
 * <h2>States it may move</h2>
 * None of the appliance's: the fixtures only stand in for its peers and surroundings.
 *
 * <h2>Failure modes</h2>
 * Every wait is bounded so a test cannot hang; a fixture that cannot start (no {@code dnsmasq}, {@code nsd},
 * {@code ldns-signzone}, {@code prometheus}, {@code postfix} or PostgreSQL binary, no root to mount a file system)
 * throws with the reason, for the test to fail or skip with. Closing a
 * fixture stops its threads and kills its processes.
 */
package org.backstopmx.testkit;
