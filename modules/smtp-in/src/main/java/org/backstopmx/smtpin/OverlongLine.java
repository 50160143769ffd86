package org.backstopmx.smtpin;

/**
 * What the framer passes on instead of a line longer than the limit (whose bytes it has discarded), saying how that
 * line ended, so the DATA receiver still finds the end of data only after a real CRLF.
 */
enum OverlongLine {
    ENDED_WITH_CRLF,
    ENDED_WITH_BARE_LF
}
