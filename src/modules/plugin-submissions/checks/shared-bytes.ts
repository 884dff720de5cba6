/**
 * Bytes in shared memory (a SharedArrayBuffer): posted to a worker thread they are neither copied nor
 * transferred, so the checks read the very bytes this thread keeps (to store the package afterwards,
 * also when the worker was terminated). Transferring an ArrayBuffer instead would detach the caller's
 * Buffer, and a worker stopped at the deadline would never give it back.
 */
export function sharedBytesFromBase64(base64: string): Buffer {
  // byteLength is an upper bound of what the decoder writes (it skips characters outside the alphabet).
  const shared = Buffer.from(new SharedArrayBuffer(Buffer.byteLength(base64, 'base64')));
  const written = shared.write(base64, 'base64');
  return shared.subarray(0, written);
}

/** The bytes as a view on shared memory: themselves when they already are, else one copy. */
export function sharedView(bytes: Uint8Array): Uint8Array {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const copy = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  copy.set(bytes);
  return copy;
}
