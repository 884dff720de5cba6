/** The Socket.IO room of a user's sockets on `/`: pushes for that user go there. */
export const userRoom = (userId: string) => `user:${userId}`;
