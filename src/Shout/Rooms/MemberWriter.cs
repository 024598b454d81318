using Shout.Protocols;
using Shout.Sessions;

namespace Shout.Rooms;

/// <summary>
/// The writer of a room member on either seam: drains the member's queue to its peer in the order
/// the room said the lines (<see cref="IPeer.SendLinesAsync"/>: a stream writes what is queued in
/// one batch and flushes once; the message seam sends one message per line). A peer that takes no
/// more ends it; a peer that is gone loses what it was owed.
/// </summary>
internal static class MemberWriter
{
    /// <summary>Sends what <paramref name="member"/> is owed until it leaves or <paramref name="peer"/> is gone.</summary>
    public static async Task RunAsync(RoomMember member, IPeer peer)
    {
        try
        {
            while (await member.WaitToReadAsync())
            {
                while (member.TryTake(out var lines))
                {
                    if (!await peer.SendLinesAsync(lines, more: member.HasQueued))
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
}
