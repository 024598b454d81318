using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>
/// The writer of a room member on either seam: drains the member's queue to its peer in the order
/// the room said the lines (<see cref="IPeer.SendLinesAsync"/>: a stream writes what is queued in
/// one batch and flushes once, after a moment's gather (<see cref="WriteGather"/>); the message seam
/// sends one message per line). A peer that takes no
/// more ends it; a peer that is gone loses what it was owed.
/// </summary>
internal static class MemberWriter
{
    /// <summary>Lines queued from which a writer writes at once instead of waiting for the gather's tick.</summary>
    internal const int GatherBelow = 64;

    /// <summary>
    /// Sends what <paramref name="member"/> is owed until it leaves or <paramref name="peer"/> is gone;
    /// with <paramref name="gather"/>, a member owed few lines waits for its tick first, so what is
    /// said meanwhile goes in the same write.
    /// </summary>
    public static async Task RunAsync(RoomMember member, IPeer peer, WriteGather? gather = null)
    {
        try
        {
            while (await member.WaitToReadAsync())
            {
                if (gather is null)
                {
                    if (!await SendQueuedAsync(member, peer))
                    {
                        return;
                    }

                    continue;
                }

                // Gathering: while lines keep coming, the writer wakes on the tick, not on each line
                // (one wake and one write per tick); once a tick finds nothing, it waits for a line again.
                while (true)
                {
                    if (member.QueuedLines < GatherBelow)
                    {
                        await gather.NextAsync();
                    }

                    if (!member.HasQueued)
                    {
                        break;
                    }

                    if (!await SendQueuedAsync(member, peer))
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception e) when (SessionEnd.Ends(e) || e is InvalidOperationException or ObjectDisposedException)
        {
            // The peer is gone (reset, kicked, write timeout, the socket closing): what it was owed is lost with it.
            member.Complete();
        }
    }

    // Everything queued now, in order; false when the peer takes no more.
    private static async ValueTask<bool> SendQueuedAsync(RoomMember member, IPeer peer)
    {
        while (member.TryTake(out var lines))
        {
            if (!await peer.SendLinesAsync(lines, more: member.HasQueued))
            {
                return false;
            }
        }

        return true;
    }
}
