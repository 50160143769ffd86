package org.backstopmx.smtpin;

import io.netty.buffer.ByteBuf;

/**
 * Octets of a BDAT chunk, passed by the framer instead of lines (RFC 3030 §2: a chunk is taken exactly as sent).
 * The buffer belongs to the framer and is valid only during the call that receives it.
 *
 * @param end whether these are the chunk's last octets
 */
record ChunkOctets(ByteBuf bytes, boolean end) {
}
