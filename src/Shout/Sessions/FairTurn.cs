namespace Shout.Sessions;

/// <summary>
/// Keeps one busy session from holding the thread it runs on (RELIABILITY row 32: a new connection
/// is answered within a second while others stream). With inline scheduling (the default) a
/// session runs on the socket engine's event thread, one per core, and Kestrel's receive loop keeps
/// receiving on that thread for as long as the socket has data (each receive then completes at
/// once) and the application consumes it. A client that always keeps data in flight therefore
/// kept its session looping on the event thread, and every other socket of that thread, a new
/// connection's TLS handshake or WebSocket upgrade, another WebSocket's pong, waited behind it:
/// 17–25 s for a wss upgrade beside 20 streaming clients on the loaded 2-core machine, and the
/// streams of the starved thread aborted as dead peers. After each turn's budget of input the
/// session yields: its continuation goes to the back of the thread pool's global queue, the
/// transport's pipe fills to its limit and pauses the receive loop, and the thread returns to its
/// other sockets. One hop per 64 KiB costs nothing measurable. One per session; not thread-safe.
/// </summary>
internal struct FairTurn
{
    /// <summary>Input bytes a session handles before it gives its thread up: one transport pipe's worth.</summary>
    internal const int Budget = 64 * 1024;

    private long _spent;

    /// <summary>Records <paramref name="bytes"/> handled; true when the turn is used up (the next one has begun) and the caller should yield.</summary>
    public bool Spend(long bytes)
    {
        _spent += bytes;
        if (_spent < Budget)
        {
            return false;
        }

        _spent = 0;
        return true;
    }
}
